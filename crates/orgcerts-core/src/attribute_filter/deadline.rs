//! The evaluation deadline: a call to [`DEADLINE`] in every comprehension's loop, which fails
//! the evaluation once the deadline has passed.
//!
//! Loops are the only way a bounded expression can run long, so checking once per iteration
//! bounds an evaluation to its deadline plus one iteration's work. Where the loop is checked
//! keeps the interpreter's fast path for `map` and `filter` (an accumulator that only appends):
//! the check wraps the filter's guard or the appended element, not the loop itself.

use std::time::Instant;

use cel::common::ast::{CallExpr, ComprehensionExpr, EntryExpr, Expr, operators};
use cel::parser::Expression;
use cel::{Context, ExecutionError, Value};

/// The function the checks call: the identity, until the deadline.
const DEADLINE: &str = "@deadline";

/// Binds [`DEADLINE`] in `context` for an evaluation that must end by `deadline`.
pub(super) fn bind(context: &mut Context<'_, '_>, deadline: Instant) {
    let check = move |value: Value| {
        if Instant::now() >= deadline {
            Err(ExecutionError::function_error(
                DEADLINE,
                "the evaluation deadline passed",
            ))
        } else {
            Ok(value)
        }
    };
    // The name cannot collide: `@` starts no identifier a user or the standard library writes.
    let _ = context.add_function(DEADLINE, check);
}

/// Puts a deadline check in the loop of every comprehension of `expression`.
pub(super) fn instrument(expression: &mut Expression) {
    match &mut expression.expr {
        Expr::Call(call) => {
            if let Some(target) = call.target.as_deref_mut() {
                instrument(target);
            }
            call.args.iter_mut().for_each(instrument);
        }
        Expr::Comprehension(comprehension) => {
            let comprehension = comprehension.as_mut();
            instrument(&mut comprehension.iter_range);
            instrument(&mut comprehension.accu_init);
            instrument(&mut comprehension.loop_cond);
            instrument(&mut comprehension.loop_step);
            instrument(&mut comprehension.result);
            check_each_iteration(comprehension);
        }
        Expr::List(list) => list.elements.iter_mut().for_each(instrument),
        Expr::Map(map) => {
            for entry in &mut map.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(entry) => {
                        instrument(&mut entry.key);
                        instrument(&mut entry.value);
                    }
                    EntryExpr::StructField(field) => instrument(&mut field.value),
                }
            }
        }
        Expr::Select(select) => instrument(&mut select.operand),
        Expr::Struct(strct) => {
            for entry in &mut strct.entries {
                if let EntryExpr::StructField(field) = &mut entry.expr {
                    instrument(&mut field.value);
                }
            }
        }
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
}

/// Wraps the part of `comprehension` evaluated on every iteration in a deadline check.
fn check_each_iteration(comprehension: &mut ComprehensionExpr) {
    let accu = comprehension.accu_var.clone();
    let is_accu = |e: &Expression| matches!(&e.expr, Expr::Ident(name) if *name == accu);
    // `map` and `filter`: a literal condition, and a step that appends to the accumulator,
    // under a guard (`filter`, `map` with a predicate) or not.
    if matches!(comprehension.loop_cond.expr, Expr::Literal(_))
        && is_accu(&comprehension.result)
        && let Expr::Call(step) = &mut comprehension.loop_step.expr
    {
        if step.func_name == operators::CONDITIONAL
            && step.args.len() == 3
            && is_accu(&step.args[2])
        {
            wrap(&mut step.args[0]);
            return;
        }
        if step.func_name == operators::ADD
            && step.args.len() == 2
            && is_accu(&step.args[0])
            && let Expr::List(items) = &mut step.args[1].expr
            && !items.elements.is_empty()
        {
            items.elements.iter_mut().for_each(wrap);
            return;
        }
    }
    // Any other loop evaluates its condition on every iteration.
    wrap(&mut comprehension.loop_cond);
}

/// Replaces `expression` by a call to [`DEADLINE`] with it as the argument, under its own id
/// (so that positions in errors stay those of the source).
fn wrap(expression: &mut Expression) {
    let inner = std::mem::take(expression);
    *expression = Expression {
        id: inner.id,
        expr: Expr::Call(CallExpr {
            func_name: DEADLINE.to_owned(),
            target: None,
            args: vec![inner],
        }),
    };
}
