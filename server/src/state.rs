//! What every handler shares.

use std::sync::Arc;

use messagedb::Store;
use serde::Deserialize;
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::metrics::Metrics;

/// The server's shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Token checks.
    pub auth: Arc<Authenticator>,
    /// Counters and histograms.
    pub metrics: Arc<Metrics>,
    /// Flips to `true` when the server stops: streaming responses end.
    pub shutdown: watch::Receiver<bool>,
    /// Largest accepted RPC body, in bytes.
    pub max_body: usize,
}

/// The `token` query parameter.
#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    /// The token, when given in the query.
    pub token: Option<String>,
}
