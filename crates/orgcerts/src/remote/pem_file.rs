//! Reading a PEM certificate from a file or standard input, for the upload commands.

use std::io::Read;
use std::path::Path;

use super::CliError;

/// The PEM in `file`, or on standard input for `-`.
pub(super) fn read_pem(file: &Path) -> Result<String, CliError> {
    let (text, source) = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| CliError::local("cannot read standard input", error))?;
        (text, "standard input".to_owned())
    } else {
        let text = std::fs::read_to_string(file)
            .map_err(|error| CliError::local(format!("cannot read {}", file.display()), error))?;
        (text, file.display().to_string())
    };
    if text.trim().is_empty() {
        return Err(CliError::Usage(format!(
            "{source} is empty: expected a PEM certificate"
        )));
    }
    Ok(text)
}
