//! The command reference at the end of docs/cli.md, generated from the help so that the two
//! cannot drift (the `help` test compares them).

use std::fmt::Write as _;

/// Every visible command's `--help`, depth first, as Markdown sections.
pub fn markdown(command: clap::Command) -> String {
    // A fixed width, so the text does not depend on the terminal it is generated in.
    let mut command = command.term_width(100);
    command.build();
    let mut out = String::new();
    section(&mut command, "orgcerts", &mut out);
    out
}

fn section(command: &mut clap::Command, path: &str, out: &mut String) {
    let help = command.render_help().to_string();
    let help: Vec<&str> = help.lines().map(str::trim_end).collect();
    let _ = writeln!(
        out,
        "\n### `{path}`\n\n```text\n{}\n```",
        help.join("\n").trim_end()
    );
    for sub in command.get_subcommands_mut() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let path = format!("{path} {}", sub.get_name());
        section(sub, &path, out);
    }
}
