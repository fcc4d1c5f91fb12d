//! `consumer.*` methods (consumers.md, "Over HTTP"): positions and parked messages of consumers
//! that HTTP clients run, acknowledgements recorded as a consumer records them.

use messagedb::consumer::{ConsumerId, ConsumerInfo};
use messagedb::{Namespace, format_time};
use serde_json::json;
use serde_json::value::RawValue;

use super::args::{Kind, kind, opt_string, options, string};
use super::category::consumer_group;
use super::encode;
use crate::error::ApiError;
use crate::state::AppState;

/// The identity of `(category, name, options? {consumerGroup?})`, checked by core.
fn identity(args: &[&RawValue], options_at: usize) -> Result<ConsumerId, ApiError> {
    let category = string(args.first().copied(), "category must be a string")?;
    let name = string(args.get(1).copied(), "name must be a string")?;
    let opts = options(args, options_at)?.unwrap_or_default();
    Ok(ConsumerId::new(&category, &name, consumer_group(&opts)?)?)
}

/// `consumer.position(category, name, options?)`: the global position, or `null`.
pub async fn position(
    state: &AppState,
    ns: &Namespace,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    let id = identity(args, 2)?;
    encode::json(&state.consumers.position(ns, &id).await?)
}

/// `consumer.ack(category, name, globalPosition, options?)`: `{"position": p}`.
pub async fn ack(state: &AppState, ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    let id = identity(args, 3)?;
    let position = args
        .get(2)
        .filter(|r| kind(r) == Kind::Number)
        .and_then(|r| serde_json::from_str::<i64>(r.get()).ok())
        .filter(|p| *p >= 1)
        .ok_or_else(|| ApiError::invalid("globalPosition must be a positive integer"))?;
    let acked = state.consumers.ack(ns, &id, position).await?;
    encode::json(&json!({ "position": acked }))
}

/// `consumer.list(options? {category?})`: every consumer that recorded a position, with its lag
/// and parked count.
pub async fn list(
    state: &AppState,
    ns: &Namespace,
    args: &[&RawValue],
) -> Result<String, ApiError> {
    let opts = options(args, 0)?.unwrap_or_default();
    let category = opt_string(&opts, "category", "options.category must be a string")?;
    let mut ids = ns.consumers(category.as_deref()).await?;
    // Those acknowledged here and not recorded yet.
    for (namespace, id) in state.consumers.seen() {
        let wanted = category.as_deref().is_none_or(|c| c == id.category());
        if namespace == ns.id() && wanted && !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let info = info(state, ns, &id).await?;
        out.push(json!({
            "category": id.category(),
            "name": id.name(),
            "group": id.group().map(|g| json!({"member": g.member, "size": g.size})),
            "position": info.position,
            "lag": info.lag,
            "parked": info.parked,
        }));
    }
    encode::json(&out)
}

/// A consumer's progress as this server knows it (its acknowledged position when newer).
async fn info(state: &AppState, ns: &Namespace, id: &ConsumerId) -> Result<ConsumerInfo, ApiError> {
    let position = state.consumers.position(ns, id).await?;
    Ok(ns.consumer_info_at(id, position).await?)
}

/// `consumer.parked(category, name, options?)`: the outstanding parked messages, oldest first.
pub async fn parked(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    let id = identity(args, 2)?;
    let parked: Vec<_> = ns
        .parked(&id)
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "stream": p.stream_name,
                "position": p.position,
                "globalPosition": p.global_position,
                "type": p.message_type,
                "id": p.id,
                "error": p.error,
                "attempts": p.attempts,
                "parkedAt": format_time(p.parked_at),
            })
        })
        .collect();
    encode::json(&parked)
}

/// Sets `messagedb_consumer_lag{namespace, category, consumer}` for every consumer this server
/// has seen (before `/metrics` renders).
pub async fn export_lag(state: &AppState) {
    for (namespace, id) in state.consumers.seen() {
        let ns = state.store.namespace(&namespace);
        match info(state, &ns, &id).await {
            Ok(info) => metrics::gauge!(
                "messagedb_consumer_lag",
                "namespace" => namespace,
                "category" => id.category().to_owned(),
                "consumer" => id.identifier(),
            )
            .set(info.lag as f64),
            Err(e) => tracing::warn!(error = %e.message, "a consumer's lag"),
        }
    }
}
