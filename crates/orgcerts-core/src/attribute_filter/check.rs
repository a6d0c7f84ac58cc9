//! The checks a filter passes when it is compiled: every identifier declared, every field one
//! its value has, every function one the filter environment offers with arguments it takes,
//! comprehensions nested at most [`MAX_COMPREHENSION_NESTING`] deep, and a boolean result.
//!
//! The `cel` crate parses and evaluates but does not check types, so this is a small checker
//! over the declarations the contract makes. Where a type cannot be known (an element of a list
//! built by `map`, a map's value) it is `dyn` and accepted; evaluation fails closed on it.

use std::fmt;

use cel::common::ast::{EntryExpr, Expr, LiteralValue, operators};
use cel::parser::Expression;

use super::MAX_COMPREHENSION_NESTING;
use super::attributes::{SAN_FIELDS, SAN_TYPES, SUBJECT_FIELDS};

/// Why a filter does not check, at which expression.
#[derive(Debug)]
pub(super) struct CheckError {
    pub expr_id: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Type {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Null,
    Type,
    List(Box<Type>),
    Map,
    Subject,
    SubjectAlternativeName,
    Dyn,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::Null => f.write_str("null"),
            Type::Type => f.write_str("type"),
            Type::List(element) => write!(f, "list({element})"),
            Type::Map => f.write_str("map"),
            Type::Subject => f.write_str("subject"),
            Type::SubjectAlternativeName => f.write_str("subject alternative name"),
            Type::Dyn => f.write_str("dyn"),
        }
    }
}

impl Type {
    fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Uint | Type::Double)
    }

    /// Whether a value of this type may be a `want`: the same type, or one side unknown.
    fn fits(&self, want: &Type) -> bool {
        self == want || matches!(self, Type::Dyn) || matches!(want, Type::Dyn)
    }

    /// Whether `==` and the ordering operators may compare the two.
    fn comparable(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Dyn, _) | (_, Type::Dyn) => true,
            (Type::Null, _) | (_, Type::Null) => true,
            (Type::List(a), Type::List(b)) => a.comparable(b),
            (Type::Map | Type::Subject | Type::SubjectAlternativeName, Type::Map)
            | (Type::Map, Type::Subject | Type::SubjectAlternativeName) => true,
            (a, b) => a == b || (a.is_numeric() && b.is_numeric()),
        }
    }

    /// The common type of two branches or list elements.
    fn join(self, other: Type) -> Type {
        if self == other { self } else { Type::Dyn }
    }
}

/// Checks `expression` as a whole filter: it must be boolean.
pub(super) fn check(expression: &Expression) -> Result<(), CheckError> {
    let mut checker = Checker::default();
    match checker.check(expression)? {
        Type::Bool | Type::Dyn => Ok(()),
        other => Err(CheckError {
            expr_id: expression.id,
            message: format!("the expression must evaluate to a bool; it evaluates to {other}"),
        }),
    }
}

#[derive(Default)]
struct Checker {
    /// The variables comprehensions declare, innermost last.
    scope: Vec<(String, Type)>,
    comprehension_depth: usize,
}

fn error(expression: &Expression, message: String) -> CheckError {
    CheckError {
        expr_id: expression.id,
        message,
    }
}

fn no_overload(expression: &Expression, function: &str, args: &[Type]) -> CheckError {
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
    fn check(&mut self, expression: &Expression) -> Result<Type, CheckError> {
        match &expression.expr {
            Expr::Literal(literal) => Ok(match literal {
                LiteralValue::Boolean(_) => Type::Bool,
                LiteralValue::Bytes(_) => Type::Bytes,
                LiteralValue::Double(_) => Type::Double,
                LiteralValue::Int(_) => Type::Int,
                LiteralValue::Null => Type::Null,
                LiteralValue::String(_) => Type::String,
                LiteralValue::UInt(_) => Type::Uint,
            }),
            Expr::Ident(name) => self.ident(expression, name),
            Expr::Select(select) => {
                let operand = self.check(&select.operand)?;
                let field = match operand {
                    Type::Subject if SUBJECT_FIELDS.contains(&select.field.as_str()) => {
                        Type::String
                    }
                    Type::Subject => {
                        return Err(error(
                            expression,
                            format!(
                                "subject has no field '{}'; its fields are {}",
                                select.field,
                                SUBJECT_FIELDS.join(", ")
                            ),
                        ));
                    }
                    Type::SubjectAlternativeName if SAN_FIELDS.contains(&select.field.as_str()) => {
                        Type::String
                    }
                    Type::SubjectAlternativeName => {
                        return Err(error(
                            expression,
                            format!(
                                "a subject alternative name has no field '{}'; its fields are {}",
                                select.field,
                                SAN_FIELDS.join(", ")
                            ),
                        ));
                    }
                    Type::Map | Type::Dyn => Type::Dyn,
                    other => {
                        return Err(error(
                            expression,
                            format!("{other} has no field '{}'", select.field),
                        ));
                    }
                };
                Ok(if select.test { Type::Bool } else { field })
            }
            Expr::List(list) => {
                let mut element: Option<Type> = None;
                for item in &list.elements {
                    let item = self.check(item)?;
                    element = Some(match element {
                        None => item,
                        Some(previous) => previous.join(item),
                    });
                }
                Ok(Type::List(Box::new(element.unwrap_or(Type::Dyn))))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.check(&entry.key)?;
                        self.check(&entry.value)?;
                    }
                }
                Ok(Type::Map)
            }
            Expr::Struct(_) => Err(error(
                expression,
                "message construction is not available in attribute filters".to_owned(),
            )),
            Expr::Comprehension(comprehension) => {
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
                    Type::List(element) => (Type::Int, *element),
                    Type::Map => (Type::Dyn, Type::Dyn),
                    Type::Dyn => (Type::Dyn, Type::Dyn),
                    other => {
                        return Err(error(
                            &comprehension.iter_range,
                            format!("a comprehension cannot range over {other}"),
                        ));
                    }
                };
                let accu = self.check(&comprehension.accu_init)?;
                let depth = self.scope.len();
                match &comprehension.iter_var2 {
                    // Two variables: the index (or key) and the element (or value).
                    Some(second_var) => {
                        self.scope.push((comprehension.iter_var.clone(), first));
                        self.scope.push((second_var.clone(), second));
                    }
                    // One variable: a list's element, a map's key.
                    None => {
                        let element = if matches!(first, Type::Int) {
                            second
                        } else {
                            first
                        };
                        self.scope.push((comprehension.iter_var.clone(), element));
                    }
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

    fn ident(&self, expression: &Expression, name: &str) -> Result<Type, CheckError> {
        if let Some((_, ty)) = self.scope.iter().rev().find(|(bound, _)| bound == name) {
            return Ok(ty.clone());
        }
        match name {
            "subject" => Ok(Type::Subject),
            "subject_alt_names" => Ok(Type::List(Box::new(Type::SubjectAlternativeName))),
            _ if SAN_TYPES.contains(&name) => Ok(Type::String),
            "bool" | "int" | "uint" | "double" | "string" | "bytes" | "list" | "map"
            | "null_type" | "type" => Ok(Type::Type),
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
    target: &Type,
    args: &[Type],
    call: &cel::common::ast::CallExpr,
) -> Result<Type, CheckError> {
    match (name, args) {
        ("contains" | "startsWith" | "endsWith", [arg])
            if target.fits(&Type::String) && arg.fits(&Type::String) =>
        {
            Ok(Type::Bool)
        }
        ("matches", [arg]) if target.fits(&Type::String) && arg.fits(&Type::String) => {
            check_pattern(expression, &call.args[0])?;
            Ok(Type::Bool)
        }
        ("size", []) if sized(target) => Ok(Type::Int),
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
    args: &[Type],
    call: &cel::common::ast::CallExpr,
) -> Result<Type, CheckError> {
    let refuse = || Err(no_overload(expression, name, args));
    match (name, args) {
        (operators::LOGICAL_AND | operators::LOGICAL_OR, [a, b]) => {
            if a.fits(&Type::Bool) && b.fits(&Type::Bool) {
                Ok(Type::Bool)
            } else {
                refuse()
            }
        }
        (operators::LOGICAL_NOT | operators::NOT_STRICTLY_FALSE, [a]) => {
            if a.fits(&Type::Bool) {
                Ok(Type::Bool)
            } else {
                refuse()
            }
        }
        (operators::EQUALS | operators::NOT_EQUALS, [a, b]) => {
            if a.comparable(b) {
                Ok(Type::Bool)
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
            let ordered = |t: &Type| {
                t.is_numeric() || matches!(t, Type::String | Type::Bytes | Type::Bool | Type::Dyn)
            };
            if ordered(a) && ordered(b) && a.comparable(b) && !matches!((a, b), (Type::Null, _)) {
                Ok(Type::Bool)
            } else {
                refuse()
            }
        }
        (operators::IN, [element, container]) => match container {
            Type::List(of) if element.comparable(of) => Ok(Type::Bool),
            Type::Map | Type::Dyn => Ok(Type::Bool),
            _ => refuse(),
        },
        (operators::ADD, [a, b]) => match (a, b) {
            (Type::Dyn, other) | (other, Type::Dyn) => Ok(match other {
                Type::List(_) => Type::List(Box::new(Type::Dyn)),
                _ => Type::Dyn,
            }),
            (Type::List(x), Type::List(y)) => {
                Ok(Type::List(Box::new((**x).clone().join((**y).clone()))))
            }
            (a, b) if a == b && (a.is_numeric() || matches!(a, Type::String | Type::Bytes)) => {
                Ok(a.clone())
            }
            _ => refuse(),
        },
        (
            operators::SUBSTRACT | operators::MULTIPLY | operators::DIVIDE | operators::MODULO,
            [a, b],
        ) => match (a, b) {
            (Type::Dyn, other) | (other, Type::Dyn)
                if other.is_numeric() || *other == Type::Dyn =>
            {
                Ok(Type::Dyn)
            }
            (a, b) if a == b && a.is_numeric() => Ok(a.clone()),
            _ => refuse(),
        },
        (operators::NEGATE, [a]) if matches!(a, Type::Int | Type::Double | Type::Dyn) => {
            Ok(a.clone())
        }
        (operators::INDEX, [container, index]) => match container {
            Type::List(element) if index.fits(&Type::Int) || *index == Type::Uint => {
                Ok((**element).clone())
            }
            Type::Map | Type::Dyn => Ok(Type::Dyn),
            Type::Subject | Type::SubjectAlternativeName if index.fits(&Type::String) => {
                Ok(Type::String)
            }
            _ => refuse(),
        },
        (operators::CONDITIONAL, [condition, yes, no]) => {
            if condition.fits(&Type::Bool) {
                Ok(yes.clone().join(no.clone()))
            } else {
                refuse()
            }
        }
        ("size", [a]) if sized(a) => Ok(Type::Int),
        ("matches", [a, b]) if a.fits(&Type::String) && b.fits(&Type::String) => {
            check_pattern(expression, &call.args[1])?;
            Ok(Type::Bool)
        }
        ("int", [_]) => Ok(Type::Int),
        ("uint", [_]) => Ok(Type::Uint),
        ("double", [_]) => Ok(Type::Double),
        ("string", [_]) => Ok(Type::String),
        ("bytes", [_]) => Ok(Type::Bytes),
        ("bool", [_]) => Ok(Type::Bool),
        ("dyn", [_]) => Ok(Type::Dyn),
        ("type", [_]) => Ok(Type::Type),
        (
            operators::LOGICAL_AND
            | operators::LOGICAL_OR
            | operators::LOGICAL_NOT
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
            | operators::CONDITIONAL
            | "size"
            | "matches",
            _,
        ) => refuse(),
        _ => Err(error(expression, format!("undeclared function '{name}'"))),
    }
}

fn sized(t: &Type) -> bool {
    matches!(
        t,
        Type::String | Type::Bytes | Type::List(_) | Type::Map | Type::Dyn
    )
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
