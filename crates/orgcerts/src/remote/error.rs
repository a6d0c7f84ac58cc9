use std::fmt::Write as _;
use std::process::ExitCode;

/// Exit codes of the `certs` and `projects` commands; documented in `--help` and docs/cli.md.
pub mod code {
    /// A local failure: a file or standard input could not be read, output could not be written.
    pub const LOCAL: u8 = 1;
    /// A usage error: bad flags or arguments (clap's code), no admin key, a bad base URL.
    pub const USAGE: u8 = 2;
    /// The API answered with an error (4xx/5xx, after retries).
    pub const API: u8 = 3;
    /// The API could not be reached: connection refused, DNS, TLS, timeout (after retries).
    pub const UNREACHABLE: u8 = 4;
    /// The API answered something that is not the expected JSON.
    pub const BAD_RESPONSE: u8 = 5;
}

/// The exit codes, as shown at the end of `orgcerts --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  local failure (cannot read the certificate file or stdin, cannot write output)
  2  usage error (bad arguments, no admin key, bad base URL)
  3  the API answered with an error (the message names the request id)
  4  the API could not be reached (connection refused, DNS, TLS, timeout)
  5  the API's answer was not the expected JSON";

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// A local file or stream failed.
    #[error("{context}: {source}")]
    Local {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The API's answer lacks what the command needs.
    #[error("{0}")]
    Unexpected(String),
    /// The client failed: API answer, transport or decoding.
    #[error(transparent)]
    Client(#[from] orgcerts_client::Error),
    /// One file of several failed.
    #[error("{file}: {source}")]
    File {
        file: String,
        #[source]
        source: Box<CliError>,
    },
}

impl CliError {
    /// A local failure with what was being done.
    pub fn local(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Local {
            context: context.into(),
            source,
        }
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        use orgcerts_client::Error as E;
        match self {
            Self::Usage(_) | Self::Client(E::InvalidInput(_)) => code::USAGE,
            Self::Local { .. } => code::LOCAL,
            Self::Client(E::Api(_)) => code::API,
            Self::Client(E::Transport(_)) => code::UNREACHABLE,
            Self::Client(E::Decode { .. }) | Self::Unexpected(_) => code::BAD_RESPONSE,
            Self::File { source, .. } => source.exit_code(),
        }
    }

    /// The error and its causes on one line, each cause said once.
    pub fn one_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !line.contains(&text) {
                let _ = write!(line, ": {text}");
            }
            source = cause.source();
        }
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Prints a failure as one `error:` line on stderr and turns the result into the exit code.
pub fn exit_code(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `orgcerts certs list | head`: a closed pipe is the reader's choice, not a failure.
        Err(CliError::Local { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {}", error.one_line());
            ExitCode::from(error.exit_code())
        }
    }
}
