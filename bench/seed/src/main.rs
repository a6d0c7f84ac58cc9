//! Seeds the large benchmark data sets fast, through the real upload path.
//!
//! - `pems`: N distinct CA certificates as upload request bodies, one JSON object per line
//!   (`{"name": …, "certificate": PEM}`), for `wrk`'s upload script and for seeding over HTTP.
//! - `load`: organizations with their admin keys and certificates, written straight into a
//!   database through [`Service::create_organization`] and [`Service::upload_certificate`], so
//!   every row is exactly what `POST /v1/organization/certificates` would have stored. What
//!   makes it fast: certificates are minted on every core (one key pair per thread, distinct
//!   subject and serial per certificate), and commits are not flushed to disk while loading
//!   (SQLite: [`SqliteStore::open_for_bulk_load`]; PostgreSQL: put
//!   `options=-c%20synchronous_commit%3Doff` in the URL). A crash while seeding may lose the
//!   load; the benchmark then seeds again.
//!
//! For the gateway rows, `load` also activates every certificate (`--activate`), creates a
//! project with a service account in each organization (`--service-keys-out`: its key, one a
//! line) and puts a given CA among one organization's certificates (`--anchor`, `--anchor-org`),
//! so that a client certificate it signed chains to an active anchor of that organization.
//!
//! Up to [`UPLOADS_IN_FLIGHT`] uploads run at once, so that the store commits them in groups as
//! it would a busy server's. `--ids-out` is read back from the store when the load is done: the
//! first organization's certificates in their list order (creation time, then creation
//! sequence), oldest first.

mod mint;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use orgcerts_core::ids::OrganizationId;
use orgcerts_core::model::Scope;
use orgcerts_core::page::{Order, PageRequest};
use orgcerts_core::{Service, Settings, Store};
use orgcerts_store::SqliteStore;

/// Uploads running at once while loading.
const UPLOADS_IN_FLIGHT: usize = 64;

#[derive(Debug, Parser)]
#[command(name = "orgcerts-bench-seed", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write N distinct CA certificates as upload bodies, one JSON object per line.
    Pems {
        /// How many certificates.
        #[arg(long)]
        count: u64,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create organizations, each with an admin key and certificates, in a database.
    Load {
        /// `sqlite://PATH` (opened for bulk loading: commits not flushed) or `postgres://…`
        /// (add `options=-c%20synchronous_commit%3Doff` for the same effect).
        #[arg(long)]
        database_url: String,
        /// Organizations to create.
        #[arg(long)]
        orgs: u64,
        /// Certificates to upload into each organization.
        #[arg(long)]
        certs_per_org: u64,
        /// The per-organization maximum to enforce while loading (at least `--certs-per-org`).
        #[arg(long)]
        max_certificates_per_org: u32,
        /// Where to write the admin keys, one per line, in organization order.
        #[arg(long)]
        keys_out: PathBuf,
        /// Where to write the certificate ids of the first organization, in upload order
        /// (which is their list order, oldest first).
        #[arg(long)]
        ids_out: Option<PathBuf>,
        /// Activate every certificate at the organization level once all are uploaded.
        #[arg(long)]
        activate: bool,
        /// Create a project and a service account in every organization and write the
        /// service account keys there, one per line, in organization order.
        #[arg(long)]
        service_keys_out: Option<PathBuf>,
        /// A CA certificate (PEM file) uploaded as one of the certificates of organization
        /// `--anchor-org`, in place of a minted one.
        #[arg(long, requires = "anchor_org")]
        anchor: Option<PathBuf>,
        /// The organization (0-based, in creation order) that gets `--anchor`.
        #[arg(long, requires = "anchor")]
        anchor_org: Option<u64>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Pems { count, out } => pems(count, &out),
        Command::Load {
            database_url,
            orgs,
            certs_per_org,
            max_certificates_per_org,
            keys_out,
            ids_out,
            activate,
            service_keys_out,
            anchor,
            anchor_org,
        } => {
            anyhow::ensure!(
                u64::from(max_certificates_per_org) >= certs_per_org,
                "--max-certificates-per-org must be at least --certs-per-org"
            );
            anyhow::ensure!(
                anchor.is_none() || certs_per_org > 0,
                "--anchor needs at least one certificate per organization"
            );
            let anchor = match (anchor, anchor_org) {
                (Some(path), Some(org)) => Some((
                    org,
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )),
                _ => None,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(load(Load {
                database_url,
                orgs,
                certs_per_org,
                max_certificates_per_org,
                keys_out,
                ids_out,
                activate,
                service_keys_out,
                anchor,
            }))
        }
    }
}

fn create(path: &PathBuf) -> anyhow::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(path).with_context(|| {
        format!("cannot create {}", path.display())
    })?))
}

fn pems(count: u64, out: &PathBuf) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut file = create(out)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let minter = std::thread::spawn(move || mint::mint_parallel(count, &tx));
    let mut written = 0u64;
    while let Some(chunk) = rx.blocking_recv() {
        for pem in chunk {
            let body = serde_json::json!({
                "name": format!("bench upload {written}"),
                "certificate": pem,
            });
            serde_json::to_writer(&mut file, &body)?;
            file.write_all(b"\n")?;
            written += 1;
        }
    }
    minter
        .join()
        .map_err(|_| anyhow::anyhow!("the minting thread panicked"))??;
    file.flush()?;
    eprintln!(
        "orgcerts-bench-seed: wrote {written} upload bodies to {} in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Load {
    database_url: String,
    orgs: u64,
    certs_per_org: u64,
    max_certificates_per_org: u32,
    keys_out: PathBuf,
    ids_out: Option<PathBuf>,
    activate: bool,
    service_keys_out: Option<PathBuf>,
    /// The organization index and the PEM of `--anchor`.
    anchor: Option<(u64, String)>,
}

async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let sqlite_path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match sqlite_path {
        Some(path) => {
            let path = PathBuf::from(path);
            let store = tokio::task::spawn_blocking(move || SqliteStore::open_for_bulk_load(&path))
                .await??;
            Ok(Arc::new(store))
        }
        None => Ok(orgcerts_store::open(url).await?),
    }
}

async fn load(args: Load) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = open_store(&args.database_url).await?;
    let service = Service::new(
        Arc::clone(&store),
        Settings {
            max_certificates_per_org: args.max_certificates_per_org,
            read_cache_items: 0,
        },
    );
    let total = args.orgs * args.certs_per_org;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<String>>(64);
    let minter = tokio::task::spawn_blocking(move || mint::mint_parallel(total, &tx));

    let mut keys = create(&args.keys_out)?;
    let mut pending: Vec<String> = Vec::new();
    let mut uploads = tokio::task::JoinSet::new();
    let mut uploaded = 0u64;
    let mut orgs = Vec::new();
    let mut last_report = Instant::now();
    for org_index in 0..args.orgs {
        let (org, key) = service
            .create_organization(&format!("bench organization {org_index}"), None)
            .await?;
        writeln!(keys, "{}", key.secret)?;
        let org = Arc::new(org.id);
        orgs.push(Arc::clone(&org));
        for cert_index in 0..args.certs_per_org {
            let anchor = match &args.anchor {
                Some((index, pem)) if *index == org_index && cert_index == 0 => Some(pem.clone()),
                _ => None,
            };
            if anchor.is_none() && pending.is_empty() {
                pending = rx
                    .recv()
                    .await
                    .context("the minting threads stopped early")?;
                pending.reverse();
            }
            let pem = match anchor {
                Some(pem) => pem,
                None => pending.pop().context("an empty chunk of certificates")?,
            };
            if uploads.len() >= UPLOADS_IN_FLIGHT {
                uploaded += finish_upload(&mut uploads).await?;
            }
            let (service, org) = (service.clone(), Arc::clone(&org));
            uploads.spawn(async move {
                let name = Some(format!("bench certificate {cert_index}"));
                service
                    .upload_certificate(&org, None, &pem, name, None)
                    .await
            });
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            let per_second = uploaded / started.elapsed().as_secs().max(1);
            eprintln!(
                "orgcerts-bench-seed: {} organizations, {uploaded}/{total} certificates, {per_second} certificates/s",
                org_index + 1,
            );
        }
    }
    while !uploads.is_empty() {
        uploaded += finish_upload(&mut uploads).await?;
    }
    drop(rx);
    minter.await??;
    keys.flush()?;
    if let (Some(path), Some(org)) = (&args.ids_out, orgs.first()) {
        write_ids(store.as_ref(), org, path).await?;
    }
    if args.activate {
        activate_all(&service, &store, &orgs).await?;
    }
    if let Some(path) = &args.service_keys_out {
        write_service_keys(&service, &orgs, path).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "organizations": args.orgs,
            "certificates": uploaded,
            "seconds": (seconds * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// Waits for one of the uploads in flight: 1 once it is stored, or its error.
async fn finish_upload(
    uploads: &mut tokio::task::JoinSet<
        orgcerts_core::Result<orgcerts_core::model::CertificateRecord>,
    >,
) -> anyhow::Result<u64> {
    match uploads.join_next().await {
        Some(joined) => {
            joined.context("an upload panicked")??;
            Ok(1)
        }
        None => Ok(0),
    }
}

/// Activates every certificate of every organization, at the organization level, as many
/// at a time as one request may name; up to [`UPLOADS_IN_FLIGHT`] organizations at once.
async fn activate_all(
    service: &Service,
    store: &Arc<dyn Store>,
    orgs: &[Arc<OrganizationId>],
) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for org in orgs {
        if tasks.len() >= UPLOADS_IN_FLIGHT {
            tasks.join_next().await.context("no task")???;
        }
        let (service, store, org) = (service.clone(), Arc::clone(store), Arc::clone(org));
        tasks.spawn(async move {
            let ids = certificate_ids(store.as_ref(), &org).await?;
            for batch in ids.chunks(orgcerts_core::service::MAX_TOGGLE_IDS) {
                service
                    .set_certificates_active(&org, None, &Scope::Organization, batch, true)
                    .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("an activation panicked")??;
    }
    Ok(())
}

/// Creates a project with a service account in every organization; writes the accounts' keys
/// to `path`, one per line, in organization order.
async fn write_service_keys(
    service: &Service,
    orgs: &[Arc<OrganizationId>],
    path: &PathBuf,
) -> anyhow::Result<()> {
    let mut out = create(path)?;
    for org in orgs {
        let project = service
            .create_project(org, None, "bench project", None, None)
            .await?;
        let created = service
            .create_project_service_account(org, None, project.id.as_str(), "bench", false)
            .await?;
        let key = created
            .key
            .context("a service account created without a key")?;
        writeln!(out, "{}", key.secret)?;
    }
    out.flush()?;
    Ok(())
}

/// The ids of `org`'s certificates in list order, oldest first.
async fn certificate_ids(store: &dyn Store, org: &OrganizationId) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut page = PageRequest {
        limit: 100,
        after: None,
        order: Order::Asc,
    };
    loop {
        let found = store
            .list_certificates(org, &Scope::Organization, &page)
            .await?;
        ids.extend(found.items.iter().map(|c| c.certificate.id.to_string()));
        match found.items.last() {
            Some(last) if found.has_more => page.after = Some(last.certificate.id.to_string()),
            _ => return Ok(ids),
        }
    }
}

/// Writes the ids of `org`'s certificates to `path`, one per line, in list order oldest first.
async fn write_ids(store: &dyn Store, org: &OrganizationId, path: &PathBuf) -> anyhow::Result<()> {
    let mut out = create(path)?;
    for id in certificate_ids(store, org).await? {
        writeln!(out, "{id}")?;
    }
    out.flush()?;
    Ok(())
}
