//! What a behavioural test may know of the server it talks to, whichever way it was started.

/// Where a server is and an admin key of its organization.
///
/// The client's tests start the real server in-process, the command line's tests start the
/// real binary, and `orgcerts-testproxy` puts a fault-injecting proxy in front of either; tests
/// see all of them through this trait.
pub trait TestServer {
    /// `http://HOST:PORT/v1`.
    fn base_url(&self) -> String;
    /// An admin key of the server's organization.
    fn admin_key(&self) -> &str;
}

/// A server a test started, stopped when dropped by the closure it was started with.
pub struct Running {
    base_url: String,
    admin_key: String,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl Running {
    /// A server at `base_url` with `admin_key`; `stop` stops it and frees what it used.
    pub fn new(base_url: String, admin_key: String, stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            base_url,
            admin_key,
            stop: Some(Box::new(stop)),
        }
    }
}

impl TestServer for Running {
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    fn admin_key(&self) -> &str {
        &self.admin_key
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}
