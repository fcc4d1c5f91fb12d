//! Node.js and Bun bindings of messagedb (napi-rs): the native side of the npm package.
//!
//! Thin by design: each method parses its input, calls the core and converts the output. Pages of
//! messages cross the boundary as one JSON text (parsed once by the TypeScript facade), and errors
//! as `[CODE key=value…] message`, which the facade's one conversion point turns into typed error
//! classes.
// napi-derive generates the FFI glue; under `cfg(test)` it registers nothing, so the exports look
// unused there.
#![allow(unsafe_code)]
#![cfg_attr(test, allow(dead_code))]

mod consumer;
mod consumer_id;
mod names;
mod namespace;
mod server;
mod store;
mod subscription;

use messagedb::{Message, format_time};
use serde::Serialize;

/// A core error as a JS error whose message carries the code (async napi functions cannot carry
/// custom properties), e.g. `[STREAM_VERSION_CONFLICT expected=0 actual=1] Expected version…`.
pub(crate) fn to_js_error(e: messagedb::Error) -> napi::Error {
    let details = match &e {
        messagedb::Error::VersionConflict {
            expected, actual, ..
        } => format!(" expected={expected} actual={actual}"),
        messagedb::Error::Backend { retryable, .. } => format!(" retryable={retryable}"),
        _ => String::new(),
    };
    napi::Error::from_reason(format!("[{}{details}] {e}", e.code()))
}

/// A message as the facade receives it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JsMessage<'a> {
    id: &'a uuid::Uuid,
    stream_name: &'a str,
    #[serde(rename = "type")]
    message_type: &'a str,
    position: i64,
    global_position: i64,
    data: &'a messagedb::JsonObject,
    metadata: Option<&'a messagedb::JsonObject>,
    time: String,
}

impl<'a> From<&'a Message> for JsMessage<'a> {
    fn from(m: &'a Message) -> Self {
        JsMessage {
            id: &m.id,
            stream_name: &m.stream_name,
            message_type: &m.message_type,
            position: m.position,
            global_position: m.global_position,
            data: &m.data,
            metadata: m.metadata.as_ref(),
            time: format_time(m.time),
        }
    }
}

/// Runs a call's future on the JS thread until it first waits: a call that completes without
/// waiting (SQLite in memory, most SQLite reads) returns its value at once, with no hop through the
/// runtime and back; one that must wait (a file commit, PostgreSQL) continues on the runtime and
/// the caller gets a promise. The facade awaits either.
pub(crate) fn now_or_later<'env, T>(
    env: &'env napi::Env,
    future: impl std::future::Future<Output = napi::Result<T>> + Send + 'static,
) -> napi::Result<napi::bindgen_prelude::Either<T, napi::bindgen_prelude::PromiseRaw<'env, T>>>
where
    T: napi::bindgen_prelude::ToNapiValue + Send + 'static,
{
    use napi::bindgen_prelude::Either;
    let mut future = Box::pin(future);
    let first = napi::bindgen_prelude::within_runtime_if_available(|| {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        future.as_mut().poll(&mut cx)
    });
    match first {
        std::task::Poll::Ready(result) => result.map(Either::A),
        // Polled again on the runtime, with a real waker, before anything can be missed.
        std::task::Poll::Pending => env.spawn_future(future).map(Either::B),
    }
}

/// JSON text of a value (messages embed their data raw).
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> napi::Result<String> {
    serde_json::to_string(value)
        .map_err(|e| napi::Error::from_reason(format!("[BACKEND_ERROR] {e}")))
}

/// One code of the error table every surface shares (core's `ErrorCode`).
#[napi_derive::napi(object)]
pub struct ErrorCodeInfo {
    /// The stable code, e.g. `INVALID_REQUEST`.
    pub code: String,
    /// The HTTP status the server answers it with.
    pub status: u32,
    /// Whether an error of this code may succeed when tried again (`BACKEND_ERROR` only; each
    /// such error says whether it does).
    pub retryable: bool,
}

/// Every error code of messagedb, in the order of the documented table.
#[napi_derive::napi(js_name = "errorCodes")]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    messagedb::ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            code: c.as_str().into(),
            status: u32::from(c.http_status()),
            retryable: c.may_retry(),
        })
        .collect()
}

/// Benchmark support, not an API: whether every SQLite read runs whole on the JS thread (the
/// baseline of `benches/js/bench.ts`'s `event_loop_during_large_reads`).
#[napi_derive::napi(js_name = "_benchInlineReads")]
pub fn bench_inline_reads(all: bool) {
    messagedb::threads::set_all_inline(all);
}
