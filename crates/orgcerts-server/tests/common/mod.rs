//! The test harness: a real orgcerts server on 127.0.0.1:0 over a fresh database, driven over
//! HTTP with reqwest. The database is a new SQLite file, or a new PostgreSQL schema when
//! `ORGCERTS_TEST_ENGINE=postgres` (see `orgcerts_testkit::database`).
//! Every body it receives is checked against the spec ([`shape`]).
#![allow(dead_code, unused_imports)]

pub mod shape;

use std::net::SocketAddr;
use std::sync::Arc;

use orgcerts_core::{Service, Settings};
use orgcerts_server::{AppState, ConnectionLimits, HttpSettings};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use orgcerts_testkit::database::TestDatabase;
pub use orgcerts_testkit::{CertSpec, KeyUsage, ca_pem, time};

/// A running server and the admin key of its first organization.
pub struct TestServer {
    pub base: String,
    pub key: String,
    pub org_id: String,
    pub service: Arc<Service>,
    /// The database URL, for a second server on the same data.
    pub db_url: String,
    http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// Keeps the database (directory or schema) alive as long as the server.
    database: Option<TestDatabase>,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts an OpenAI error envelope with this status, param and code, and returns its message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, param: Option<&str>, code: Option<&str>) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        let error = &self.body["error"];
        let keys: Vec<&String> = error.as_object().expect("error object").keys().collect();
        assert_eq!(keys.len(), 4, "all four keys, no more: {error}");
        assert_eq!(error["param"], json!(param), "param in {error}");
        assert_eq!(error["code"], json!(code), "code in {error}");
        let message = error["message"].as_str().expect("message is a string");
        assert!(!message.is_empty());
        message.to_owned()
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        &self.body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Options {
    pub max_certificates_per_org: u32,
    /// The read cache's size in certificates; 0 turns it off.
    pub read_cache_items: u64,
    pub http: HttpSettings,
    pub limits: ConnectionLimits,
    /// The store's settings (SQLite uses only the acquire timeout).
    pub store: orgcerts_store::OpenOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_certificates_per_org: 50,
            read_cache_items: orgcerts_core::service::DEFAULT_READ_CACHE_ITEMS,
            // Tests send many wrong keys from one address; the failed-authentication limit
            // has tests of its own, which turn it on.
            http: HttpSettings {
                failed_auth_per_minute: 0,
                ..HttpSettings::default()
            },
            limits: ConnectionLimits::default(),
            store: orgcerts_store::OpenOptions::default(),
        }
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let database = TestDatabase::fresh();
        let mut server = Self::start_on(&database.url(), options).await;
        let (org, issued) = server
            .service
            .create_organization("Test organization", None)
            .await
            .expect("create organization");
        server.key = issued.secret;
        server.org_id = org.id.to_string();
        server.database = Some(database);
        server
    }

    /// Starts a server on an existing database (no organization is created).
    pub async fn start_on(db_url: &str, options: Options) -> Self {
        let store = orgcerts_store::open_with(db_url, &options.store)
            .await
            .expect("open store");
        let service = Arc::new(Service::new(
            store,
            Settings {
                max_certificates_per_org: options.max_certificates_per_org,
                read_cache_items: options.read_cache_items,
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let app = orgcerts_server::app(AppState::new(service.clone(), options.http));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(orgcerts_server::listener::serve_connections(
            listener,
            app,
            None,
            options.limits,
            async move {
                let _ = rx.await;
            },
        ));
        Self {
            base: format!("http://{addr}/v1"),
            key: String::new(),
            org_id: String::new(),
            service,
            db_url: db_url.to_owned(),
            http: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
            database: None,
        }
    }

    /// Stops the server gracefully and waits for it; the database is kept with `self`.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
    }

    /// Creates another organization on the same server; returns (org id, admin key).
    pub async fn second_org(&self) -> (String, String) {
        let (org, issued) = self
            .service
            .create_organization("Other organization", None)
            .await
            .expect("create organization");
        (org.id.to_string(), issued.secret)
    }

    /// A request with this server's key.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.key.clone(), method, path, body).await
    }

    pub async fn call_as(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.raw(method, path).bearer_auth(key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(req).await
    }

    /// A request built by the caller, e.g. with odd headers or a raw body; send it with
    /// [`TestServer::send`].
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// The server's address, for raw TCP tests.
    pub fn addr(&self) -> String {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .to_owned()
    }

    /// Reads an answer from outside the spec (the operator endpoints): JSON, not shape-checked.
    pub async fn reply_outside_spec(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("every body is JSON, got {status}: {text:?}"));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends a request and reads its answer, which must be JSON and match the spec's schema
    /// for the operation the request addressed (or `ErrorResponse`).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("request builds");
        let method = request.method().clone();
        let path = request.url().path().to_owned();
        let response = self.http.execute(request).await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("every body is JSON, got {status}: {text:?}"));
        shape::check(method.as_str(), &path, status.as_u16(), &body);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Uploads a fresh CA anchor; returns the certificate object.
    pub async fn upload(&self, name: &str) -> Value {
        self.post(
            "/organization/certificates",
            json!({"certificate": ca_pem(name), "name": name}),
        )
        .await
        .ok()
        .clone()
    }

    pub async fn upload_id(&self, name: &str) -> String {
        self.upload(name).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    pub async fn create_project(&self, name: &str) -> String {
        self.post("/organization/projects", json!({"name": name}))
            .await
            .ok()["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Every id of a list page, in order.
    pub fn ids(page: &Value) -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect()
    }
}
