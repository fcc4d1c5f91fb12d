//! `ns.*` and `sys.*` methods.

use messagedb::{JsonObject, ListStreamsOpts, NamespaceOpts};
use serde_json::json;
use serde_json::value::RawValue;

use super::args::{self, Kind, kind, opt_number, opt_string, options};
use super::encode;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

const NAMESPACE_ID: &str = "namespace ID must be a non-empty string";

fn namespace_id(args: &[&RawValue]) -> Result<String, ApiError> {
    args::non_empty(args.first().copied(), NAMESPACE_ID)
}

/// `ns.create(namespaceId, options?)` (admin).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    caller.require_admin()?;
    let id = namespace_id(args)?;
    let fields = options(args, 1)?.unwrap_or_default();
    let mut opts = NamespaceOpts::default();
    opts.description = opt_string(
        &fields,
        "description",
        "options.description must be a string",
    )?;
    opts.token = opt_string(&fields, "token", "options.token must be a string")?;
    opts.metadata = match fields.get("metadata") {
        None => None,
        Some(m) if kind(m) == Kind::Null => None,
        Some(m) if kind(m) == Kind::Object => Some(JsonObject::from_raw(m, "options.metadata")?),
        Some(_) => return Err(ApiError::invalid("options.metadata must be an object")),
    };
    encode::json(&state.store.create_namespace(&id, opts).await?)
}

/// `ns.delete(namespaceId)` (admin, or the namespace's own token).
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    let id = namespace_id(args)?;
    caller.require_admin_or(&id)?;
    let deleted = state.store.delete_namespace(&id).await?;
    state.auth.forget(&id);
    encode::json(&deleted)
}

/// `ns.list()` (admin), newest first.
pub async fn list(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    caller.require_admin()?;
    encode::json(&state.store.list_namespaces().await?)
}

/// `ns.info(namespaceId)` (admin, or the namespace's own token).
pub async fn info(
    state: &AppState,
    caller: &Caller,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    let id = namespace_id(args)?;
    caller.require_admin_or(&id)?;
    encode::json(&state.store.namespace_info(&id).await?)
}

/// `ns.streams(options?)`: the caller's namespace's streams by name.
pub async fn streams(
    state: &AppState,
    caller: &Caller,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    let fields = options(args, 0)?.unwrap_or_default();
    let mut opts = ListStreamsOpts::default();
    opts.prefix = opt_string(&fields, "prefix", "prefix must be a string")?;
    opts.cursor = opt_string(&fields, "cursor", "cursor must be a string")?;
    opts.limit = opt_number(&fields, "limit", "limit must be a number")?;
    encode::json(
        &state
            .store
            .namespace(&caller.namespace)
            .list_streams(&opts)
            .await?,
    )
}

/// `ns.categories()`: the caller's namespace's categories with counts.
pub async fn categories(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    encode::json(
        &state
            .store
            .namespace(&caller.namespace)
            .list_categories()
            .await?,
    )
}

/// `sys.health()`.
pub fn health(state: &AppState) -> Result<String, ApiError> {
    encode::json(&json!({
        "status": "ok",
        "backend": state.store.backend_kind(),
        "connections": state.metrics.open_subscriptions(),
    }))
}
