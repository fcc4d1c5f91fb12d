//! `serve()`: the bundled server, in this process.

use std::time::Duration;

use messagedb_server::{RunningServer, ServeConfig};
use napi_derive::napi;
use tokio::sync::Mutex;

/// Options of `serve()`.
#[napi(object)]
pub struct ServeOptions {
    /// Port (0 = any free port); outside 0–65535 is `INVALID_REQUEST`.
    pub port: Option<i64>,
    /// In-memory store and relaxed authentication (default true).
    pub test_mode: Option<bool>,
    /// `postgres://…` or `sqlite://…`.
    pub db_url: Option<String>,
    /// The default namespace's token.
    pub token: Option<String>,
    /// SQLite directory (without `dbUrl`).
    pub data_dir: Option<String>,
    /// Bind address (default 127.0.0.1, loopback only; `"0.0.0.0"` or `"::"` for every
    /// interface).
    pub host: Option<String>,
}

/// A running server.
#[napi]
pub struct NativeServer {
    url: String,
    port: u32,
    token: String,
    running: Mutex<Option<RunningServer>>,
}

/// Starts the same server as `messagedb serve`, in this process.
#[napi]
pub async fn serve(options: Option<ServeOptions>) -> napi::Result<NativeServer> {
    let o = options.unwrap_or(ServeOptions {
        port: None,
        test_mode: None,
        db_url: None,
        token: None,
        data_dir: None,
        host: None,
    });
    let defaults = ServeConfig::in_process();
    let port = messagedb::rules::check_port(o.port.unwrap_or(0)).map_err(crate::to_js_error)?;
    let config = ServeConfig {
        port,
        test_mode: o.test_mode.unwrap_or(defaults.test_mode),
        db_url: o.db_url,
        token: o.token,
        host: o.host.or(defaults.host.clone()),
        data_dir: o.data_dir.unwrap_or(defaults.data_dir.clone()),
        ..defaults
    };
    let running = messagedb_server::start(config)
        .await
        .map_err(|e| napi::Error::from_reason(format!("[{}] {e}", e.code())))?;
    Ok(NativeServer {
        url: running.url.clone(),
        port: u32::from(running.port),
        token: running.token.clone(),
        running: Mutex::new(Some(running)),
    })
}

#[napi]
impl NativeServer {
    /// `http://localhost:<port>`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The bound port.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// The default namespace's (admin) token.
    #[napi(getter)]
    pub fn token(&self) -> String {
        self.token.clone()
    }

    /// Stops the server and closes its store.
    #[napi]
    pub async fn close(&self) {
        if let Some(running) = self.running.lock().await.take() {
            running.stop(Duration::from_millis(100)).await;
        }
    }
}
