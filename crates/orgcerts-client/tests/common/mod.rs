//! Test setup shared by the client's integration tests.
//!
//! `server()` starts the real server in-process over a fresh SQLite file. A test that needs
//! the server to fail on purpose, or to see the requests the client sent, puts the
//! fault-injecting proxy in front of it: `proxy(server())`.

#![allow(dead_code, unused_imports)]

use std::time::Duration;

use orgcerts_client::Client;
pub use orgcerts_testkit::{Running, TestServer, ca_pem as anchor, closed_port};
pub use orgcerts_testproxy::{Fault, Proxy, proxy};

/// The real server on a free port of 127.0.0.1, on a thread of its own, stopped when dropped.
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
                orgcerts_core::Settings::default(),
            ));
            let (_, issued) = service
                .create_organization("Client tests", None)
                .await
                .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = orgcerts_server::app(orgcerts_server::AppState::new(
                service,
                orgcerts_server::HttpSettings::default(),
            ));
            ready_tx.send((addr, issued.secret)).unwrap();
            orgcerts_server::run(listener, app, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    let (addr, key) = ready_rx.recv().unwrap();
    Running::new(format!("http://{addr}/v1"), key, move || {
        let _ = stop.send(());
        let joined = thread.join();
        drop(database);
        // A panic of the server thread (its start, its run or its shutdown) fails the test,
        // unless the test is already failing.
        if let Err(panic) = joined
            && !std::thread::panicking()
        {
            std::panic::resume_unwind(panic);
        }
    })
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

/// Uploads `count` anchors named `cert-0`, `cert-1`, ... and returns their ids in upload order.
pub async fn upload_many(client: &Client, count: usize) -> Vec<String> {
    let certificates = client.admin().organization().certificates();
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let request = orgcerts_client::types::UploadCertificateRequest {
            certificate: anchor(&format!("anchor {index}")),
            name: Some(format!("cert-{index}")),
            attribute_filter: None,
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
