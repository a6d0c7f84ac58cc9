//! Test setup shared by the client's integration tests.
//!
//! `server()` is the one place that decides what the tests talk to. Today it is the in-memory
//! fake; when the real server is on this branch it starts that instead (see the crate README),
//! and every test that does not need `fake()` runs against it unchanged.

#![allow(dead_code, unused_imports)]

use std::time::Duration;

use orgcerts_client::Client;
pub use orgcerts_fake::{FakeServer, Fault, TestServer};
use orgcerts_testkit::CertSpec;

pub struct RealServer {
    base_url: String,
    key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _database: orgcerts_testkit::database::TestDatabase,
}

impl TestServer for RealServer {
    fn base_url(&self) -> String {
        self.base_url.clone()
    }
    fn admin_key(&self) -> &str {
        &self.key
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The server the behavioural tests run against. Only [`TestServer`] is visible, so a test
/// that needs the fake's controls must ask for `fake()`.
pub fn server() -> impl TestServer {
    // SQLite, or PostgreSQL with ORGCERTS_TEST_ENGINE=postgres.
    let database = orgcerts_testkit::database::TestDatabase::fresh();
    let url = database.url();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let store = orgcerts_store::open(&url).await.unwrap();
            let service = std::sync::Arc::new(orgcerts_core::Service::new(
                store,
                orgcerts_core::Settings {
                    max_certificates_per_org: 50,
                },
            ));
            let (_, issued) = service
                .create_organization("Client tests", None)
                .await
                .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = orgcerts_server::app(orgcerts_server::AppState {
                service,
                max_body_bytes: orgcerts_server::DEFAULT_MAX_BODY_BYTES,
            });
            ready_tx.send((addr, issued.secret)).unwrap();
            orgcerts_server::run(listener, app, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    let (addr, key) = ready_rx.recv().unwrap();
    RealServer {
        base_url: format!("http://{addr}/v1"),
        key,
        stop: Some(stop),
        thread: Some(thread),
        _database: database,
    }
}

/// A server that can fail on purpose: always the fake.
pub fn fake() -> FakeServer {
    FakeServer::start()
}

/// A client of `server` with short retry delays, so retry tests stay quick.
pub fn client(server: &impl TestServer) -> Client {
    builder(server).build().expect("client")
}

pub fn builder(server: &impl TestServer) -> orgcerts_client::ClientBuilder {
    Client::builder()
        .api_key(server.admin_key())
        .base_url(server.base_url())
        .retry_delays(Duration::from_millis(20), Duration::from_millis(100))
}

/// A fresh, valid CA anchor.
pub fn anchor(name: &str) -> String {
    CertSpec::ca(name).mint().cert_pem
}

/// Uploads `count` anchors named `cert-0`, `cert-1`, ... and returns their ids in upload order.
pub async fn upload_many(client: &Client, count: usize) -> Vec<String> {
    let certificates = client.admin().organization().certificates();
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let request = orgcerts_client::types::UploadCertificateRequest {
            certificate: anchor(&format!("anchor {index}")),
            name: Some(format!("cert-{index}")),
        };
        ids.push(
            certificates
                .create(&request)
                .await
                .expect("upload")
                .into_inner()
                .id,
        );
    }
    ids
}
