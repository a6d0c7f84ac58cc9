//! Attribute filters: a CEL expression per certificate over the attributes of the client
//! certificate, which must hold for the anchor to accept a verified path (docs/contract.md,
//! "Attribute filters").
//!
//! A filter is compiled when it is saved and again when the gateway builds its trust snapshot:
//! parsed by the `cel` crate, bounded in length and nesting, checked against the variables the
//! contract declares and for a boolean result. Evaluation runs against a deadline: every
//! iteration of a comprehension checks it, so a runaway expression stops instead of holding a
//! worker.

mod attributes;
mod check;
mod deadline;

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use cel::common::ast::SourceInfo;
use cel::objects::Value;
use cel::parser::Expression;
use cel::{Context, Env, ParseErrors};

pub use attributes::{CertificateAttributes, SubjectAlternativeName, SubjectAlternativeNameType};

use crate::{Error, Result};

/// The longest filter accepted, in bytes.
pub const MAX_ATTRIBUTE_FILTER_BYTES: usize = 4096;
/// How deeply a filter's expressions may nest (parentheses, calls, operators, comprehensions).
/// Parsing and evaluation recurse as deep: the bound keeps both within a thread's stack.
pub const MAX_ATTRIBUTE_FILTER_NESTING: u16 = 48;
/// The stack a filter is compiled on: the parser's frames at the nesting bound need more than a
/// runtime worker's stack in unoptimised builds.
const COMPILER_STACK_BYTES: usize = 32 << 20;
/// How many comprehensions (`exists`, `all`, `map`, ...) may nest inside one another.
pub const MAX_COMPREHENSION_NESTING: usize = 4;

/// The environment every filter compiles and evaluates in: CEL's standard library, no optional
/// syntax.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// A compiled attribute filter.
#[derive(Debug, Clone)]
pub struct AttributeFilter {
    source: String,
    /// The checked expression, with a deadline check in every comprehension's loop.
    program: Arc<Expression>,
}

/// What a filter made of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The expression evaluated to `true`.
    Accepted,
    /// It evaluated to `false`, to something else than a boolean, or failed (a missing map key,
    /// an overflow): a filter fails closed.
    Refused,
    /// The deadline passed before the evaluation finished.
    DeadlineExceeded,
}

impl AttributeFilter {
    /// Compiles `source`: an `Error::InvalidAttributeFilter` that says what is wrong and where
    /// for a syntax error, an unknown variable, field or function, a type mismatch the
    /// declarations show, an expression that is not boolean, or one over the bounds.
    pub fn compile(source: &str) -> Result<Self> {
        // The parser's frames at the nesting bound need more than a runtime worker's stack in
        // unoptimised builds: it runs on a stack of its own. A panic inside it (none is known)
        // refuses the filter instead of taking the request down.
        stacker::maybe_grow(COMPILER_STACK_BYTES, COMPILER_STACK_BYTES, || {
            std::panic::catch_unwind(|| Self::compile_here(source)).unwrap_or_else(|_| {
                Err(invalid("the expression could not be compiled.".to_owned()))
            })
        })
    }

    fn compile_here(source: &str) -> Result<Self> {
        if source.len() > MAX_ATTRIBUTE_FILTER_BYTES {
            return Err(invalid(format!(
                "the expression is {} bytes long; the most is {MAX_ATTRIBUTE_FILTER_BYTES}.",
                source.len()
            )));
        }
        if source.trim().is_empty() {
            return Err(invalid("the expression is empty.".to_owned()));
        }
        let parser = ENV
            .parser()
            .enable_optional_syntax(false)
            .max_recursion_depth(MAX_ATTRIBUTE_FILTER_NESTING);
        let (mut expression, info) = parser
            .parse_with_source_info(source)
            .map_err(|errors| unparsed(&errors))?;
        check::check(&expression).map_err(|err| {
            let at = position(&info, err.expr_id)
                .map(|(line, column)| format!(" (line {line}, column {column})"))
                .unwrap_or_default();
            invalid(format!("{}{at}.", err.message))
        })?;
        deadline::instrument(&mut expression);
        Ok(Self {
            source: source.to_owned(),
            program: Arc::new(expression),
        })
    }

    /// The expression as saved.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the filter for a client certificate's `attributes`, giving up at `deadline`.
    pub fn evaluate(&self, attributes: &CertificateAttributes, deadline: Instant) -> Verdict {
        let mut context = Context::with_env(Arc::clone(&ENV));
        attributes.bind(&mut context);
        deadline::bind(&mut context, deadline);
        match context.resolve(&self.program) {
            Ok(Value::Bool(true)) => Verdict::Accepted,
            Err(_) if Instant::now() >= deadline => Verdict::DeadlineExceeded,
            _ => Verdict::Refused,
        }
    }
}

/// The first of the parser's errors, with where it is.
fn unparsed(errors: &ParseErrors) -> Error {
    let Some(first) = errors.errors.first() else {
        return invalid("the expression does not parse.".to_owned());
    };
    if first.msg.contains("ecursion limit") {
        // The parser counts a chain of `||` or `&&` as deep as it is long.
        return invalid(format!(
            "expressions may nest at most {MAX_ATTRIBUTE_FILTER_NESTING} deep (a chain of || or && \
             counts each operand; `x in [...]` does not)."
        ));
    }
    invalid(format!(
        "{} (line {}, column {}).",
        first.msg.trim_end_matches('.'),
        first.pos.0,
        first.pos.1
    ))
}

fn invalid(message: String) -> Error {
    Error::InvalidAttributeFilter { message }
}

/// The line and column (1-based, in characters) where expression `id` starts.
fn position(info: &SourceInfo, id: u64) -> Option<(usize, usize)> {
    let (start, _) = info.offset_for(id)?;
    let start = usize::try_from(start).ok()?;
    let before = info.source.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests;
