//! How answers reach the terminal: the output formats, list paging and progress.

use std::io::{IsTerminal, Write};

use futures_util::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use orgcerts_client::{CursorPage, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::CliError;

/// What a command prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tables and `key  value` blocks.
    Human,
    /// The API's JSON as returned; a list followed with `--all` becomes one list object.
    Json,
    /// JSON Lines: one object per line.
    JsonLines,
}

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

/// `json` on one line: as it is when it already is, else compacted.
pub fn one_line(json: &str) -> String {
    let json = json.trim();
    if !json.contains('\n') {
        return json.to_owned();
    }
    serde_json::from_str::<serde_json::Value>(json)
        .map_or_else(|_| json.to_owned(), |v| v.to_string())
}

/// Prints one answer in `format`: its raw body, that body on one line, or `human`'s rendering.
pub fn show<T>(
    format: Format,
    response: &Response<T>,
    human: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    match format {
        Format::Json => print(response.raw_body()),
        Format::JsonLines => print(&one_line(response.raw_body())),
        Format::Human => print(&human(response)),
    }
}

/// The items of a list page, each exactly as the API sent it.
#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

fn raw_items(body: &str) -> Result<Vec<&RawValue>, CliError> {
    serde_json::from_str::<RawPage<'_>>(body)
        .map(|page| page.data)
        .map_err(|error| CliError::Unexpected(format!("the API's list is not a list: {error}")))
}

/// Prints a list from its first page on, following every page with `all`.
///
/// - [`Format::Human`]: one table of `render`ed items, and a hint on stderr when more follow;
/// - [`Format::Json`]: the page's body as returned; with `all`, one list object holding every
///   item (`has_more` false, `first_id`/`last_id` of the whole list);
/// - [`Format::JsonLines`]: each item on its own line, printed as its page arrives.
pub async fn show_list<T, S>(
    pages: S,
    all: bool,
    format: Format,
    noun: &str,
    render: impl FnOnce(&[T]) -> String,
) -> Result<(), CliError>
where
    S: futures_util::Stream<Item = orgcerts_client::Result<CursorPage<T>>> + Unpin,
{
    list(pages, all, format, (noun, Cursor::After), render).await
}

/// [`show_list`] for a list that pages towards newer items (an audit log listed `--before`):
/// the hint for the next page names `--before` and the page's first id.
pub async fn show_list_before<T, S>(
    pages: S,
    all: bool,
    format: Format,
    noun: &str,
    render: impl FnOnce(&[T]) -> String,
) -> Result<(), CliError>
where
    S: futures_util::Stream<Item = orgcerts_client::Result<CursorPage<T>>> + Unpin,
{
    list(pages, all, format, (noun, Cursor::Before), render).await
}

/// Which cursor leads to a list's next page.
#[derive(Clone, Copy)]
enum Cursor {
    After,
    Before,
}

async fn list<T, S>(
    mut pages: S,
    all: bool,
    format: Format,
    (noun, cursor): (&str, Cursor),
    render: impl FnOnce(&[T]) -> String,
) -> Result<(), CliError>
where
    S: futures_util::Stream<Item = orgcerts_client::Result<CursorPage<T>>> + Unpin,
{
    let progress = Progress::pages(all, noun);
    let mut items = Vec::new();
    let mut raw = Vec::new();
    let (mut first_id, mut last_id) = (None, None);
    let mut next_after = None;
    while let Some(page) = pages.try_next().await? {
        progress.inc(page.data.len());
        match format {
            Format::Json if !all => print(page.raw_body())?,
            Format::Json => {
                raw.extend(
                    raw_items(page.raw_body())?
                        .iter()
                        .map(|item| item.get().to_owned()),
                );
                if first_id.is_none() {
                    first_id.clone_from(&page.first_id);
                }
                if page.last_id.is_some() {
                    last_id.clone_from(&page.last_id);
                }
            }
            Format::JsonLines => {
                let lines: Vec<String> = raw_items(page.raw_body())?
                    .iter()
                    .map(|item| one_line(item.get()))
                    .collect();
                if !lines.is_empty() {
                    progress.suspend(|| print(&lines.join("\n")))?;
                }
            }
            Format::Human => {
                let id = match cursor {
                    Cursor::After => &page.last_id,
                    Cursor::Before => &page.first_id,
                };
                next_after = page.has_next_page().then(|| id.clone()).flatten();
                items.extend(page.data);
            }
        }
        if !all {
            break;
        }
    }
    drop(progress);
    match format {
        Format::Json if all => print(&format!(
            "{{\"object\":\"list\",\"data\":[{}],\"first_id\":{},\"last_id\":{},\"has_more\":false}}",
            raw.join(","),
            serde_json::to_string(&first_id).unwrap_or_default(),
            serde_json::to_string(&last_id).unwrap_or_default(),
        )),
        Format::Json | Format::JsonLines => Ok(()),
        Format::Human => {
            print(&render(&items))?;
            if let Some(id) = next_after.filter(|_| !all) {
                let flag = match cursor {
                    Cursor::After => "--after",
                    Cursor::Before => "--before",
                };
                eprintln!("More {noun} follow: add --all, or {flag} {id} for the next page.");
            }
            Ok(())
        }
    }
}

/// Progress on stderr for long work: a spinner counting items while `--all` walks pages, a bar
/// while a directory uploads. Silent unless stderr is a terminal, so logs and pipes stay clean.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A spinner counting fetched `noun`, when `wanted`.
    pub fn pages(wanted: bool, noun: &str) -> Self {
        Self::new(wanted, None, &format!("{{spinner}} fetched {{pos}} {noun}"))
    }

    /// A bar over `total` steps of `verb` `noun`.
    pub fn bar(total: usize, verb: &str, noun: &str) -> Self {
        Self::new(
            true,
            Some(total as u64),
            &format!("{verb} {{bar:20}} {{pos}}/{{len}} {noun} {{wide_msg}}"),
        )
    }

    fn new(wanted: bool, total: Option<u64>, template: &str) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }

    /// Counts `steps` more.
    pub fn inc(&self, steps: usize) {
        if let Some(bar) = &self.0 {
            bar.inc(steps as u64);
        }
    }

    /// Runs `work` (which prints to stdout) with the progress line cleared, so that the two do
    /// not overwrite each other on a terminal.
    pub fn suspend<R>(&self, work: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(bar) => bar.suspend(work),
            None => work(),
        }
    }

    /// Shows what is being worked on.
    pub fn message(&self, message: String) {
        if let Some(bar) = &self.0 {
            bar.set_message(message);
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

/// Whether stdout may be styled: a terminal (or `CLICOLOR_FORCE` set, as for tools that write
/// colour to a pager), and `NO_COLOR` unset.
pub fn color_stdout() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    let forced =
        std::env::var_os("CLICOLOR_FORCE").is_some_and(|value| !value.is_empty() && value != "0");
    (std::io::stdout().is_terminal() || forced) && !set("NO_COLOR")
}
