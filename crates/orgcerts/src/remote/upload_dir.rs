//! `orgcerts certs upload DIR`: every PEM file of a directory, one upload each.

use std::path::{Path, PathBuf};

use orgcerts_client::Certificates;
use orgcerts_client::types::UploadCertificateRequest;

use super::CliError;
use super::output::{self, Format, Progress};
use super::pem_file::read_pem;

/// The extensions of the files a directory upload takes.
const EXTENSIONS: [&str; 2] = ["pem", "crt"];

/// The PEM files directly in `dir`, in name order.
fn pem_files(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| CliError::local(format!("cannot read {}", dir.display()), error))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|error| CliError::local(format!("cannot read {}", dir.display()), error))?
            .path();
        let wanted = path
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()));
        if wanted && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Uploads each PEM file of `dir`, named after its file and with `filter` as its attribute
/// filter, in name order; prints each upload as it is done (`FILE  ID` lines, or one JSON line
/// each with `--jsonl`; with `--json`, one list object at the end). The first failure stops the
/// run and names its file; the files before it stay uploaded.
pub(super) async fn run(
    certificates: &Certificates<'_>,
    dir: &Path,
    name: Option<String>,
    filter: Option<String>,
    format: Format,
) -> Result<(), CliError> {
    if name.is_some() {
        return Err(CliError::Usage(format!(
            "--name names one certificate; {} is a directory, whose files are named after themselves",
            dir.display()
        )));
    }
    let files = pem_files(dir)?;
    if files.is_empty() {
        return Err(CliError::Usage(format!(
            "{} holds no *.pem or *.crt file",
            dir.display()
        )));
    }
    let progress = Progress::bar(files.len(), "uploading", "files");
    let mut uploaded = Vec::new();
    let mut result = Ok(());
    for file in &files {
        let shown = file.display().to_string();
        progress.message(
            file.file_name()
                .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
        );
        // A file that cannot be read names itself.
        let certificate = match read_pem(file) {
            Ok(certificate) => certificate,
            Err(error) => {
                result = Err(error);
                break;
            }
        };
        let request = UploadCertificateRequest {
            certificate,
            name: file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned()),
            attribute_filter: filter.clone(),
        };
        let response = match certificates.create(&request).await {
            Ok(response) => response,
            Err(error) => {
                result = Err(CliError::File {
                    file: shown,
                    source: Box::new(error.into()),
                });
                break;
            }
        };
        progress.inc(1);
        match format {
            Format::Human => {
                progress.suspend(|| output::print(&format!("{shown}  {}", response.id)))?;
            }
            Format::JsonLines => {
                progress.suspend(|| output::print(&output::one_line(response.raw_body())))?;
            }
            Format::Json => uploaded.push(response.raw_body().trim().to_owned()),
        }
    }
    drop(progress);
    if format == Format::Json {
        output::print(&format!(
            "{{\"object\":\"list\",\"data\":[{}]}}",
            uploaded.join(",")
        ))?;
    }
    result
}
