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

/// The server the behavioural tests run against. Only [`TestServer`] is visible, so a test
/// that needs the fake's controls must ask for `fake()`.
pub fn server() -> impl TestServer {
    FakeServer::start()
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
