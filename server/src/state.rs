//! What every handler shares.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use messagedb::Store;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::error::ApiError;
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
    /// Consumers run by HTTP clients.
    pub consumers: Arc<crate::consumers::Consumers>,
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

/// A query string read into `T`; one that does not read (a parameter given twice, a number that
/// is not one) is the JSON 400 `INVALID_REQUEST` of every other error, not axum's plain text.
#[derive(Debug, Default)]
pub struct QueryOf<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryOf(q))
            .map_err(|e| ApiError::invalid(format!("Invalid query string: {}", e.body_text())))
    }
}
