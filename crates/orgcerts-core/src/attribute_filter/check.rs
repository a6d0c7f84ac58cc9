//! The checks a filter passes when it is compiled: every identifier declared, every field one
//! its value has, every function one the filter environment offers with arguments it takes,
//! expressions nested at most [`MAX_ATTRIBUTE_FILTER_NESTING`] deep and comprehensions at most
//! [`MAX_COMPREHENSION_NESTING`], and a boolean result.
//!
//! The `cel` crate parses and evaluates but does not check types, so this is a small checker
//! over the declarations the contract makes. Where a type cannot be known (an element of a list
//! built by `map`, a map's value) it is `dyn` and accepted; evaluation fails closed on it.

use std::fmt;

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, LiteralValue, SelectExpr, operators,
};
use cel::parser::Expression;

use super::attributes::{SAN_FIELDS, SAN_TYPES, SUBJECT_FIELDS};
use super::{MAX_ATTRIBUTE_FILTER_NESTING, MAX_COMPREHENSION_NESTING};

/// Why a filter does not check, at which expression.
#[derive(Debug)]
pub(super) struct CheckError {
    pub expr_id: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Null,
    /// A type, as `type(x)` and the type names give it.
    TypeValue,
    List(Box<Ty>),
    Map,
    Subject,
    SubjectAlternativeName,
    Dyn,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Uint => f.write_str("uint"),
            Ty::Double => f.write_str("double"),
            Ty::String => f.write_str("string"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::Null => f.write_str("null"),
            Ty::TypeValue => f.write_str("type"),
            Ty::List(element) => write!(f, "list({element})"),
            Ty::Map => f.write_str("map"),
            Ty::Subject => f.write_str("subject"),
            Ty::SubjectAlternativeName => f.write_str("subject alternative name"),
            Ty::Dyn => f.write_str("dyn"),
        }
    }
}

impl Ty {
    fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Uint | Ty::Double)
    }

    /// Whether a value of this type may be a `want`: the same type, or one side unknown.
    fn fits(&self, want: &Ty) -> bool {
        self == want || matches!(self, Ty::Dyn) || matches!(want, Ty::Dyn)
    }

    /// Whether `==` and the ordering operators may compare the two.
    fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Dyn | Ty::Null, _)
            | (_, Ty::Dyn | Ty::Null)
            | (Ty::Map | Ty::Subject | Ty::SubjectAlternativeName, Ty::Map)
            | (Ty::Map, Ty::Subject | Ty::SubjectAlternativeName) => true,
            (Ty::List(a), Ty::List(b)) => a.comparable(b),
            (a, b) => a == b || (a.is_numeric() && b.is_numeric()),
        }
    }

    /// The common type of two branches or list elements.
    #[allow(clippy::needless_pass_by_value)]
    fn join(self, other: Ty) -> Ty {
        if self == other { self } else { Ty::Dyn }
    }
}

/// Checks `expression` as a whole filter: it must be boolean.
pub(super) fn check(expression: &Expression) -> Result<(), CheckError> {
    let mut checker = Checker::default();
    match checker.check(expression)? {
        Ty::Bool | Ty::Dyn => Ok(()),
        other => Err(CheckError {
            expr_id: expression.id,
            message: format!("the expression must evaluate to a bool; it evaluates to {other}"),
        }),
    }
}

#[derive(Default)]
struct Checker {
    /// The variables comprehensions declare, innermost last.
    scope: Vec<(String, Ty)>,
    comprehension_depth: usize,
    /// How deep the expression being checked is: evaluation recurses as deep.
    depth: u16,
}

fn error(expression: &Expression, message: String) -> CheckError {
    CheckError {
        expr_id: expression.id,
        message,
    }
}

fn no_overload(expression: &Expression, function: &str, args: &[Ty]) -> CheckError {
    let shown = function.trim_matches(['_', '@', '!', '-']);
    let shown = if shown.is_empty() { function } else { shown };
    let args = args
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    error(
        expression,
        format!("no matching overload for '{shown}' applied to ({args})"),
    )
}

impl Checker {
    fn check(&mut self, expression: &Expression) -> Result<Ty, CheckError> {
        if self.depth >= MAX_ATTRIBUTE_FILTER_NESTING {
            return Err(error(
                expression,
                format!("expressions may nest at most {MAX_ATTRIBUTE_FILTER_NESTING} deep"),
            ));
        }
        self.depth += 1;
        let checked = self.check_nested(expression);
        self.depth -= 1;
        checked
    }

    fn check_nested(&mut self, expression: &Expression) -> Result<Ty, CheckError> {
        match &expression.expr {
            Expr::Literal(literal) => Ok(match literal {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Bytes(_) => Ty::Bytes,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::Int(_) => Ty::Int,
                LiteralValue::Null => Ty::Null,
                LiteralValue::String(_) => Ty::String,
                LiteralValue::UInt(_) => Ty::Uint,
            }),
            Expr::Ident(name) => self.ident(expression, name),
            Expr::Select(select) => self.select(expression, select),
            Expr::List(list) => {
                let mut element: Option<Ty> = None;
                for item in &list.elements {
                    let item = self.check(item)?;
                    element = Some(match element {
                        None => item,
                        Some(previous) => previous.join(item),
                    });
                }
                Ok(Ty::List(Box::new(element.unwrap_or(Ty::Dyn))))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.check(&entry.key)?;
                        self.check(&entry.value)?;
                    }
                }
                Ok(Ty::Map)
            }
            Expr::Struct(_) => Err(error(
                expression,
                "message construction is not available in attribute filters".to_owned(),
            )),
            Expr::Comprehension(comprehension) => self.comprehension(expression, comprehension),
            Expr::Call(call) => {
                let target = match &call.target {
                    Some(target) => Some(self.check(target)?),
                    None => None,
                };
                let args = call
                    .args
                    .iter()
                    .map(|arg| self.check(arg))
                    .collect::<Result<Vec<_>, _>>()?;
                match target {
                    Some(target) => method(expression, &call.func_name, &target, &args, call),
                    None => function(expression, &call.func_name, &args, call),
                }
            }
            Expr::Unspecified => Err(error(expression, "an empty expression".to_owned())),
        }
    }

    fn select(&mut self, expression: &Expression, select: &SelectExpr) -> Result<Ty, CheckError> {
        let operand = self.check(&select.operand)?;
        let field = match operand {
            Ty::Subject if SUBJECT_FIELDS.contains(&select.field.as_str()) => Ty::String,
            Ty::Subject => {
                return Err(error(
                    expression,
                    format!(
                        "subject has no field '{}'; its fields are {}",
                        select.field,
                        SUBJECT_FIELDS.join(", ")
                    ),
                ));
            }
            Ty::SubjectAlternativeName if SAN_FIELDS.contains(&select.field.as_str()) => Ty::String,
            Ty::SubjectAlternativeName => {
                return Err(error(
                    expression,
                    format!(
                        "a subject alternative name has no field '{}'; its fields are {}",
                        select.field,
                        SAN_FIELDS.join(", ")
                    ),
                ));
            }
            Ty::Map | Ty::Dyn => Ty::Dyn,
            other => {
                return Err(error(
                    expression,
                    format!("{other} has no field '{}'", select.field),
                ));
            }
        };
        Ok(if select.test { Ty::Bool } else { field })
    }

    fn comprehension(
        &mut self,
        expression: &Expression,
        comprehension: &ComprehensionExpr,
    ) -> Result<Ty, CheckError> {
        if self.comprehension_depth >= MAX_COMPREHENSION_NESTING {
            return Err(error(
                expression,
                format!(
                    "comprehensions (exists, all, exists_one, map, filter) may nest at most {MAX_COMPREHENSION_NESTING} deep"
                ),
            ));
        }
        let range = self.check(&comprehension.iter_range)?;
        let (first, second) = match range {
            Ty::List(element) => (Ty::Int, *element),
            Ty::Map | Ty::Dyn => (Ty::Dyn, Ty::Dyn),
            other => {
                return Err(error(
                    &comprehension.iter_range,
                    format!("a comprehension cannot range over {other}"),
                ));
            }
        };
        let accu = self.check(&comprehension.accu_init)?;
        let depth = self.scope.len();
        if let Some(second_var) = &comprehension.iter_var2 {
            // Two variables: the index (or key) and the element (or value).
            self.scope.push((comprehension.iter_var.clone(), first));
            self.scope.push((second_var.clone(), second));
        } else {
            // One variable: a list's element, a map's key.
            let element = if matches!(first, Ty::Int) {
                second
            } else {
                first
            };
            self.scope.push((comprehension.iter_var.clone(), element));
        }
        self.scope.push((comprehension.accu_var.clone(), accu));
        self.comprehension_depth += 1;
        let result = self
            .check(&comprehension.loop_cond)
            .and_then(|_| self.check(&comprehension.loop_step))
            .and_then(|step| {
                // The accumulator takes the step's type from the second iteration on.
                if let Some((_, accu)) = self.scope.last_mut() {
                    let joined = accu.clone().join(step);
                    *accu = joined;
                }
                self.check(&comprehension.result)
            });
        self.comprehension_depth -= 1;
        self.scope.truncate(depth);
        result
    }

    fn ident(&self, expression: &Expression, name: &str) -> Result<Ty, CheckError> {
        if let Some((_, ty)) = self.scope.iter().rev().find(|(bound, _)| bound == name) {
            return Ok(ty.clone());
        }
        match name {
            "subject" => Ok(Ty::Subject),
            "subject_alt_names" => Ok(Ty::List(Box::new(Ty::SubjectAlternativeName))),
            _ if SAN_TYPES.contains(&name) => Ok(Ty::String),
            "bool" | "int" | "uint" | "double" | "string" | "bytes" | "list" | "map"
            | "null_type" | "type" => Ok(Ty::TypeValue),
            _ => Err(error(
                expression,
                format!(
                    "undeclared reference to '{name}'; the variables are subject, subject_alt_names and the names {}",
                    SAN_TYPES.join(", ")
                ),
            )),
        }
    }
}

/// A call with a target: `target.name(args)`.
fn method(
    expression: &Expression,
    name: &str,
    target: &Ty,
    args: &[Ty],
    call: &CallExpr,
) -> Result<Ty, CheckError> {
    match (name, args) {
        ("contains" | "startsWith" | "endsWith", [arg])
            if target.fits(&Ty::String) && arg.fits(&Ty::String) =>
        {
            Ok(Ty::Bool)
        }
        ("matches", [arg]) if target.fits(&Ty::String) && arg.fits(&Ty::String) => {
            check_pattern(expression, &call.args[0])?;
            Ok(Ty::Bool)
        }
        ("size", []) if sized(target) => Ok(Ty::Int),
        ("contains" | "startsWith" | "endsWith" | "matches" | "size", _) => {
            let mut all = vec![target.clone()];
            all.extend(args.iter().cloned());
            Err(no_overload(expression, name, &all))
        }
        _ => Err(error(expression, format!("undeclared function '{name}'"))),
    }
}

/// A call without a target: an operator or a global function.
fn function(
    expression: &Expression,
    name: &str,
    args: &[Ty],
    call: &CallExpr,
) -> Result<Ty, CheckError> {
    if let Some(checked) = operator(expression, name, args) {
        return checked;
    }
    let refuse = || Err(no_overload(expression, name, args));
    match (name, args) {
        ("size", [a]) if sized(a) => Ok(Ty::Int),
        ("matches", [a, b]) if a.fits(&Ty::String) && b.fits(&Ty::String) => {
            check_pattern(expression, &call.args[1])?;
            Ok(Ty::Bool)
        }
        ("int", [_]) => Ok(Ty::Int),
        ("uint", [_]) => Ok(Ty::Uint),
        ("double", [_]) => Ok(Ty::Double),
        ("string", [_]) => Ok(Ty::String),
        ("bytes", [_]) => Ok(Ty::Bytes),
        ("bool", [_]) => Ok(Ty::Bool),
        ("dyn", [_]) => Ok(Ty::Dyn),
        ("type", [_]) => Ok(Ty::TypeValue),
        ("size" | "matches", _) => refuse(),
        _ => Err(error(expression, format!("undeclared function '{name}'"))),
    }
}

/// An operator: `None` when `name` is none.
fn operator(expression: &Expression, name: &str, args: &[Ty]) -> Option<Result<Ty, CheckError>> {
    let refuse = || Err(no_overload(expression, name, args));
    let checked = match (name, args) {
        (operators::LOGICAL_AND | operators::LOGICAL_OR, [a, b]) => {
            if a.fits(&Ty::Bool) && b.fits(&Ty::Bool) {
                Ok(Ty::Bool)
            } else {
                refuse()
            }
        }
        (operators::LOGICAL_NOT | operators::NOT_STRICTLY_FALSE, [a]) => {
            if a.fits(&Ty::Bool) {
                Ok(Ty::Bool)
            } else {
                refuse()
            }
        }
        (operators::EQUALS | operators::NOT_EQUALS, [a, b]) => {
            if a.comparable(b) {
                Ok(Ty::Bool)
            } else {
                refuse()
            }
        }
        (
            operators::LESS
            | operators::LESS_EQUALS
            | operators::GREATER
            | operators::GREATER_EQUALS,
            [a, b],
        ) => {
            let ordered =
                |t: &Ty| t.is_numeric() || matches!(t, Ty::String | Ty::Bytes | Ty::Bool | Ty::Dyn);
            if ordered(a) && ordered(b) && a.comparable(b) && !matches!((a, b), (Ty::Null, _)) {
                Ok(Ty::Bool)
            } else {
                refuse()
            }
        }
        (operators::IN, [element, container]) => match container {
            Ty::List(of) if element.comparable(of) => Ok(Ty::Bool),
            Ty::Map | Ty::Dyn => Ok(Ty::Bool),
            _ => refuse(),
        },
        (
            operators::ADD
            | operators::SUBSTRACT
            | operators::MULTIPLY
            | operators::DIVIDE
            | operators::MODULO,
            [a, b],
        ) => arithmetic(name, a, b).map_or_else(refuse, Ok),
        (operators::NEGATE, [a]) if matches!(a, Ty::Int | Ty::Double | Ty::Dyn) => Ok(a.clone()),
        (operators::INDEX, [container, index]) => match container {
            Ty::List(element) if index.fits(&Ty::Int) || *index == Ty::Uint => {
                Ok((**element).clone())
            }
            Ty::Map | Ty::Dyn => Ok(Ty::Dyn),
            Ty::Subject | Ty::SubjectAlternativeName if index.fits(&Ty::String) => Ok(Ty::String),
            _ => refuse(),
        },
        (operators::CONDITIONAL, [condition, yes, no]) => {
            if condition.fits(&Ty::Bool) {
                Ok(yes.clone().join(no.clone()))
            } else {
                refuse()
            }
        }
        (
            operators::LOGICAL_AND
            | operators::LOGICAL_OR
            | operators::LOGICAL_NOT
            | operators::NOT_STRICTLY_FALSE
            | operators::EQUALS
            | operators::NOT_EQUALS
            | operators::LESS
            | operators::LESS_EQUALS
            | operators::GREATER
            | operators::GREATER_EQUALS
            | operators::IN
            | operators::ADD
            | operators::SUBSTRACT
            | operators::MULTIPLY
            | operators::DIVIDE
            | operators::MODULO
            | operators::NEGATE
            | operators::INDEX
            | operators::CONDITIONAL,
            _,
        ) => refuse(),
        _ => return None,
    };
    Some(checked)
}

/// The result of `a name b` for the arithmetic operators, `None` if they do not apply.
fn arithmetic(name: &str, a: &Ty, b: &Ty) -> Option<Ty> {
    let concatenates = |t: &Ty| matches!(t, Ty::String | Ty::Bytes | Ty::List(_));
    match (a, b) {
        (Ty::List(x), Ty::List(y)) if name == operators::ADD => {
            Some(Ty::List(Box::new((**x).clone().join((**y).clone()))))
        }
        (Ty::Dyn, Ty::List(_)) | (Ty::List(_), Ty::Dyn) if name == operators::ADD => {
            Some(Ty::List(Box::new(Ty::Dyn)))
        }
        (Ty::Dyn, other) | (other, Ty::Dyn)
            if other.is_numeric()
                || *other == Ty::Dyn
                || (name == operators::ADD && concatenates(other)) =>
        {
            Some(Ty::Dyn)
        }
        (a, b) if a == b && (a.is_numeric() || (name == operators::ADD && concatenates(a))) => {
            Some(a.clone())
        }
        _ => None,
    }
}

fn sized(t: &Ty) -> bool {
    matches!(t, Ty::String | Ty::Bytes | Ty::List(_) | Ty::Map | Ty::Dyn)
}

/// A `matches` pattern written as a literal must be a valid regular expression.
fn check_pattern(call: &Expression, pattern: &Expression) -> Result<(), CheckError> {
    if let Expr::Literal(LiteralValue::String(pattern_text)) = &pattern.expr {
        let text: &str = pattern_text.inner();
        if let Err(err) = regex::Regex::new(text) {
            let reason = err.to_string();
            let reason = reason.lines().last().unwrap_or("invalid").trim();
            return Err(error(
                call,
                format!("invalid regular expression in matches: {reason}"),
            ));
        }
    }
    Ok(())
}
