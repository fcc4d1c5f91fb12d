//! The router and the running server: binding, startup output, graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use messagedb::{ErrorCode, Store, StoreOptions, token};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::{AppState, QueryOf, TokenQuery};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Port; 0 = any free port.
    pub port: u16,
    /// Bind address; `None` = every interface, IPv4 and IPv6.
    pub host: Option<String>,
    /// In-memory SQLite (without `db_url`) and relaxed authentication.
    pub test_mode: bool,
    /// The `default` namespace's token; generated (or the well-known test token) when `None`.
    pub token: Option<String>,
    /// `postgres://…` or `sqlite://…`.
    pub db_url: Option<String>,
    /// SQLite directory when no `db_url` (and not test mode).
    pub data_dir: String,
    /// Largest RPC body, and largest `/import` record, in bytes.
    pub max_body: usize,
    /// How the store is opened (PostgreSQL pool size and connection wait).
    pub store_options: StoreOptions,
}

impl ServeConfig {
    /// The defaults of a server started from code (the npm and Python packages' `serve()`): any
    /// free port, test mode, and loopback only — test mode's `default` token is public, so
    /// listening on other interfaces is an explicit choice (`host`).
    pub fn in_process() -> Self {
        ServeConfig {
            port: 0,
            host: Some(LOOPBACK.into()),
            test_mode: true,
            ..ServeConfig::default()
        }
    }
}

/// The address `serve()` binds unless told otherwise.
pub const LOOPBACK: &str = "127.0.0.1";

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            port: 8080,
            host: None,
            test_mode: false,
            token: None,
            db_url: None,
            data_dir: "./messagedb-data".into(),
            max_body: 16 * 1024 * 1024,
            store_options: StoreOptions::default(),
        }
    }
}

/// A server that is listening.
pub struct RunningServer {
    /// `http://localhost:<port>` (or the bound host).
    pub url: String,
    /// The bound port.
    pub port: u16,
    /// The `default` namespace's token.
    pub token: String,
    /// Which backend serves.
    pub backend: &'static str,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// Records HTTP consumers' positions; records the last ones when the server stops.
    keeper: tokio::task::JoinHandle<()>,
    store: Store,
}

impl RunningServer {
    /// Stops accepting, ends streaming responses, waits for the connections to close (at most
    /// `grace`), and closes the store.
    pub async fn stop(self, grace: std::time::Duration) {
        self.stop.send_replace(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
        let mut keeper = self.keeper;
        if tokio::time::timeout(grace, &mut keeper).await.is_err() {
            keeper.abort();
        }
        self.store.close().await;
    }
}

/// Why the server could not start: a bad token, a store that cannot be opened, a port in use.
/// Its code is `SERVER_START_FAILED`; its text is a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError(String);

impl StartError {
    /// `SERVER_START_FAILED`.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ServerStartFailed
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl From<String> for StartError {
    fn from(message: String) -> Self {
        StartError(message)
    }
}

/// A store URL as it may be printed or logged: a password, in the user part or as the
/// `password` parameter, replaced by `***` (`postgres://app:***@db/messages`). Every message
/// that shows a URL goes through it.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let query = query.map(|q| {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        format!("?{}", params.join("&"))
    });
    format!("{scheme}://{authority}{path}{}", query.unwrap_or_default())
}

/// Opens the store, binds, and serves in the background.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use messagedb_server::{ServeConfig, start};
/// let server = start(ServeConfig::in_process()).await?; // any free port, loopback, test mode
/// let url = format!("{}/health", server.url);
/// let health = tokio::task::spawn_blocking(move || ureq::get(&url).call()?.body_mut().read_to_string());
/// assert_eq!(health.await.unwrap().unwrap(), r#"{"status":"ok"}"#);
/// server.stop(std::time::Duration::from_secs(5)).await;
/// # Ok::<_, messagedb_server::StartError>(()) }).unwrap();
/// ```
///
/// # Errors
/// A [`StartError`] (`SERVER_START_FAILED`).
pub async fn start(config: ServeConfig) -> Result<RunningServer, StartError> {
    let url = match (&config.db_url, config.test_mode) {
        (Some(url), _) => url.clone(),
        (None, true) => "sqlite::memory:".into(),
        (None, false) => format!("sqlite://{}", config.data_dir),
    };
    let default_token = match &config.token {
        Some(t) => {
            let ns = token::parse_token(t).map_err(|e| format!("--token: {e}"))?;
            if ns != messagedb::DEFAULT_NAMESPACE {
                return Err(
                    format!("--token: the token is for namespace '{ns}', not 'default'").into(),
                );
            }
            t.clone()
        }
        None if config.test_mode => token::DEFAULT_TEST_TOKEN.to_string(),
        None => token::generate_token(messagedb::DEFAULT_NAMESPACE),
    };
    let store = Store::open_with(&url, config.store_options.clone())
        .await
        .map_err(|e| format!("cannot open the store at {}: {e}", redact_url(&url)))?;
    store
        .set_token(messagedb::DEFAULT_NAMESPACE, &default_token)
        .await
        .map_err(|e| format!("cannot set the default token: {e}"))?;
    let listener = bind(config.host.as_deref(), config.port).await?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (stop, shutdown) = watch::channel(false);
    let consumers = Arc::new(crate::consumers::Consumers::default());
    let state = AppState {
        store: store.clone(),
        auth: Arc::new(Authenticator::new(store.clone(), config.test_mode)),
        metrics: Arc::new(Metrics::default()),
        consumers: consumers.clone(),
        shutdown: shutdown.clone(),
        max_body: config.max_body,
    };
    let app = router(state);
    let task = crate::threads::serve(listener, app, shutdown.clone())?;
    tokio::spawn(crate::metrics::upkeep(shutdown.clone()));
    let keeper = tokio::spawn(consumers.keep(store.clone(), shutdown));
    let host = match config.host.as_deref() {
        None | Some("0.0.0.0" | "::" | "[::]") => "localhost".to_string(),
        Some(h) if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        Some(h) => h.to_string(),
    };
    Ok(RunningServer {
        url: format!("http://{host}:{port}"),
        port,
        token: default_token,
        backend: store.backend_kind(),
        stop,
        task,
        keeper,
        store,
    })
}

/// Binds the given host, or every interface: `[::]` with IPv6-only off (so `localhost` works
/// whether it resolves to 127.0.0.1 or ::1), or `0.0.0.0` where IPv6 is unavailable.
async fn bind(host: Option<&str>, port: u16) -> Result<TcpListener, String> {
    let in_use = |addr: &str, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("port {port} is already in use ({addr})")
        } else {
            format!("cannot listen on {addr}: {e}")
        }
    };
    if let Some(h) = host {
        let addr = if h.contains(':') && !h.starts_with('[') {
            format!("[{h}]:{port}")
        } else {
            format!("{h}:{port}")
        };
        return TcpListener::bind(&addr).await.map_err(|e| in_use(&addr, e));
    }
    let v6 = SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port));
    match dual_stack(v6) {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(in_use("[::]", e)),
        Err(_) => TcpListener::bind(("0.0.0.0", port))
            .await
            .map_err(|e| in_use("0.0.0.0", e)),
    }
}

fn dual_stack(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v6()?;
    socket.set_reuseaddr(true)?;
    // IPV6_V6ONLY is off by default on Linux; tokio exposes no setter, std's default applies.
    socket.bind(addr)?;
    socket.listen(1024)
}

fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "ok"})) }).fallback(not_allowed),
        )
        .route(
            "/version",
            get(|| async { axum::Json(json!({"version": env!("CARGO_PKG_VERSION")})) })
                .fallback(not_allowed),
        )
        .route("/rpc", post(rpc).fallback(crate::rpc::not_post))
        .route(
            "/subscribe",
            get(crate::sse::subscribe).fallback(not_allowed),
        )
        .route("/import", post(crate::import::import).fallback(not_allowed))
        .route("/metrics", get(metrics).fallback(not_allowed))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "Endpoint not found") })
        .with_state(state)
}

/// A method a route does not serve: 405 with the JSON error body of every other error.
async fn not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::invalid(format!("Method {method} not allowed"))
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// Reads the body under the limit (413 `INVALID_REQUEST` past it), then handles the call.
async fn rpc(
    state: State<AppState>,
    query: QueryOf<TokenQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = state.max_body;
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => crate::rpc::handle(state, query, headers, bytes).await,
        Err(e)
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) =>
        {
            ApiError::invalid(format!("Request body exceeds {limit} bytes"))
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                .into_response()
        }
        // The client sent less than it announced, or the connection failed mid-body.
        Err(e) => {
            ApiError::invalid(format!("Could not read the request body: {e}")).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    crate::rpc::consumer::export_lag(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn a_url_is_printed_without_its_password() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/m?pool_size=4",
                "postgres://app:***@db:5432/m?pool_size=4",
            ),
            ("postgresql://app:p@ss@db/m", "postgresql://app:***@db/m"),
            ("postgres://app@db/m", "postgres://app@db/m"),
            (
                "postgres://db/m?sslmode=require&password=x",
                "postgres://db/m?sslmode=require&password=***",
            ),
            ("sqlite://./data", "sqlite://./data"),
            ("sqlite::memory:", "sqlite::memory:"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
