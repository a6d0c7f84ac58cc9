use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::CliError;

/// Writes a command's output to stdout; a failed write is a local error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                stdout.write_all(b"\n")
            }
        })
        .and_then(|()| stdout.flush())
        .map_err(|error| CliError::local("cannot write to standard output", error))
}

/// A spinner on stderr counting fetched items while `--all` walks pages; silent unless stderr
/// is a terminal, so logs and pipes stay clean.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// Shows a spinner when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, noun: &str) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let template = format!("{{spinner}} fetched {{pos}} {noun} ({{msg}})");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }

    /// Counts one more page of `items`.
    pub fn page(&self, number: usize, items: usize) {
        if let Some(bar) = &self.0 {
            bar.inc(items as u64);
            bar.set_message(format!("page {number}"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Whether stdout may be styled: a terminal, and `NO_COLOR` unset.
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
