//! `POST /rpc`: a JSON array `["method", arg…]` in, the method's JSON result out.

mod args;
mod category;
pub mod consumer;
pub mod encode;
mod ns;
mod stream;

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use messagedb::ErrorCode;
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, QueryOf, TokenQuery};

/// Handles one RPC request: authenticate, parse the envelope, dispatch, encode.
pub async fn handle(
    State(state): State<AppState>,
    QueryOf(query): QueryOf<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let (method, result, caller) = match state
        .auth
        .authenticate(&headers, query.token.as_deref())
        .await
    {
        Err(e) => (String::new(), Err(e), None),
        Ok(caller) => {
            let (method, result) = call(&state, &caller, &body).await;
            (method, result, Some(caller))
        }
    };
    let status = result
        .as_ref()
        .map_or_else(|e| e.status, |_| StatusCode::OK);
    // Only methods the server has get a label of their own: a label per name a client makes up
    // would let clients grow the metrics without bound.
    let label = match &result {
        Err(e) if e.code == ErrorCode::MethodNotFound => "unknown",
        _ if method.is_empty() => "-",
        _ => method.as_str(),
    };
    state.metrics.rpc(label, status, started.elapsed());
    let mut response = match result {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => e.into_response(),
    };
    if let Some(token) = caller.and_then(|c| c.issued_token)
        && let Ok(value) = HeaderValue::from_str(&token)
    {
        response
            .headers_mut()
            .insert("x-messagedb-token", value.clone());
        response.headers_mut().insert("x-eventodb-token", value);
    }
    response
}

/// Parses the envelope and runs the method; returns the method name (for metrics) and the result.
async fn call(
    state: &AppState,
    caller: &Caller,
    body: &[u8],
) -> (String, Result<String, ApiError>) {
    let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(body) else {
        return (
            String::new(),
            Err(ApiError::invalid("Malformed JSON request")),
        );
    };
    let Some((method, args)) = items.split_first() else {
        return (String::new(), Err(ApiError::invalid("Missing method name")));
    };
    let Ok(method) = serde_json::from_str::<String>(method.get()) else {
        return (
            String::new(),
            Err(ApiError::invalid("Method name must be a string")),
        );
    };
    let result = dispatch(state, caller, &method, args)
        .await
        .map_err(|e| caller.checked(e));
    (method, result)
}

async fn dispatch(
    state: &AppState,
    caller: &Caller,
    method: &str,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    let ns = || state.store.namespace(&caller.namespace);
    match method {
        "stream.write" => {
            let r = stream::write(&ns(), args).await?;
            state.metrics.written(1);
            Ok(r)
        }
        "stream.writeBatch" => {
            let (r, n) = stream::write_batch(&ns(), args).await?;
            state.metrics.written(n);
            Ok(r)
        }
        "stream.get" => stream::get(&ns(), args).await,
        "stream.last" => stream::last(&ns(), args).await,
        "stream.version" => stream::version(&ns(), args).await,
        "category.get" => category::get(&ns(), args).await,
        "consumer.position" => consumer::position(state, &ns(), args).await,
        "consumer.ack" => consumer::ack(state, &ns(), args).await,
        "consumer.list" => consumer::list(state, &ns(), args).await,
        "consumer.parked" => consumer::parked(&ns(), args).await,
        "ns.create" => ns::create(state, caller, args).await,
        "ns.delete" => ns::delete(state, caller, args).await,
        "ns.list" => ns::list(state, caller).await,
        "ns.info" => ns::info(state, caller, args).await,
        "ns.streams" => ns::streams(state, caller, args).await,
        "ns.categories" => ns::categories(state, caller).await,
        "sys.version" => encode::json(env!("CARGO_PKG_VERSION")),
        "sys.health" => ns::health(state),
        other => Err(ApiError::new(
            ErrorCode::MethodNotFound,
            format!("Unknown method: {other}"),
        )),
    }
}

/// Any method other than POST on `/rpc`.
pub async fn not_post() -> ApiError {
    ApiError::invalid("Only POST method allowed").with_status(StatusCode::METHOD_NOT_ALLOWED)
}
