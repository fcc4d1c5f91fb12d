//! `NativeConsumerId`: a consumer seen from outside it — its recorded position, its progress and
//! its parked messages. The facade's `consumerPosition`, `setConsumerPosition`, `consumerInfo`,
//! `parked`, `replayParked` and `discardParked` (the replay's loop runs in JS, so the handler does).

use messagedb::consumer::{ConsumerId, ConsumerInfo, Parked, Settled};
use messagedb::{ConsumerGroup, Namespace, format_time};
use napi_derive::napi;
use serde::Serialize;

use crate::{JsMessage, to_js_error, to_json};

/// Who a consumer is.
#[napi(object)]
pub struct NativeConsumerIdentity {
    /// The category it reads (`""` = the whole namespace).
    pub category: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Consumer group member.
    pub member: Option<i64>,
    /// Consumer group size.
    pub size: Option<i64>,
}

/// The parts of an identity, checked by the core (`INVALID_REQUEST`).
pub(crate) fn identity(
    category: Option<&str>,
    name: Option<&str>,
    member: Option<i64>,
    size: Option<i64>,
) -> messagedb::Result<(String, String, Option<ConsumerGroup>)> {
    let Some(category) = category else {
        return Err(messagedb::Error::invalid(
            "options.category must be a string (\"\" for the whole namespace)",
        ));
    };
    let group = ConsumerGroup::from_parts(member, size)?;
    Ok((
        category.to_owned(),
        name.unwrap_or_default().to_owned(),
        group,
    ))
}

/// A consumer's progress (`handled` and `active` are this process's view).
#[napi(object)]
pub struct NativeConsumerInfo {
    /// The last handled global position, `null` when none.
    pub position: Option<i64>,
    /// The namespace's last global position.
    pub head: i64,
    /// Messages of the category after the position (bounded count).
    pub lag: i64,
    /// Messages handled in this run.
    pub handled: i64,
    /// Outstanding parked messages.
    pub parked: i64,
    /// Whether this is the active instance.
    pub active: bool,
}

impl NativeConsumerInfo {
    pub(crate) fn new(info: &ConsumerInfo) -> Self {
        NativeConsumerInfo {
            position: info.position,
            head: info.head,
            lag: info.lag,
            handled: i64::try_from(info.handled).unwrap_or(i64::MAX),
            parked: i64::try_from(info.parked).unwrap_or(i64::MAX),
            active: info.active,
        }
    }
}

/// A parked message as the facade receives it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsParked<'a> {
    stream: &'a str,
    position: i64,
    global_position: i64,
    #[serde(rename = "type")]
    message_type: &'a str,
    id: &'a str,
    error: &'a str,
    attempts: u32,
    parked_at: String,
}

impl<'a> From<&'a Parked> for JsParked<'a> {
    fn from(p: &'a Parked) -> Self {
        JsParked {
            stream: &p.stream_name,
            position: p.position,
            global_position: p.global_position,
            message_type: &p.message_type,
            id: &p.id,
            error: &p.error,
            attempts: p.attempts,
            parked_at: format_time(p.parked_at),
        }
    }
}

/// A consumer's identity in one namespace.
#[napi]
pub struct NativeConsumerId {
    ns: Namespace,
    id: ConsumerId,
}

impl NativeConsumerId {
    pub(crate) fn new(ns: Namespace, identity: NativeConsumerIdentity) -> napi::Result<Self> {
        let (category, name, group) = self::identity(
            identity.category.as_deref(),
            identity.name.as_deref(),
            identity.member,
            identity.size,
        )
        .map_err(to_js_error)?;
        let id = ConsumerId::new(&category, &name, group).map_err(to_js_error)?;
        Ok(NativeConsumerId { ns, id })
    }
}

#[napi]
impl NativeConsumerId {
    /// The position recorded last, `null` when none.
    #[napi]
    pub async fn position(&self) -> napi::Result<Option<i64>> {
        self.ns
            .consumer_position(&self.id)
            .await
            .map_err(to_js_error)
    }

    /// Records a position (the consumer resumes after it).
    #[napi]
    pub async fn set_position(&self, position: i64) -> napi::Result<()> {
        self.ns
            .set_consumer_position(&self.id, position)
            .await
            .map_err(to_js_error)
    }

    /// The consumer's progress from its recorded position (`handled` 0, `active` false).
    #[napi]
    pub async fn info(&self) -> napi::Result<NativeConsumerInfo> {
        let info = self.ns.consumer_info(&self.id).await.map_err(to_js_error)?;
        Ok(NativeConsumerInfo::new(&info))
    }

    /// The outstanding parked messages, oldest first; JSON array.
    #[napi]
    pub async fn parked(&self) -> napi::Result<String> {
        let parked = self.ns.parked(&self.id).await.map_err(to_js_error)?;
        to_json(&parked.iter().map(JsParked::from).collect::<Vec<_>>())
    }

    /// The original of the outstanding parked message at `global_position`; JSON, or `null` when
    /// it is not outstanding or its original is gone.
    #[napi]
    pub async fn parked_message(&self, global_position: i64) -> napi::Result<Option<String>> {
        let parked = self.ns.parked(&self.id).await.map_err(to_js_error)?;
        let Some(p) = parked.iter().find(|p| p.global_position == global_position) else {
            return Ok(None);
        };
        match self.ns.parked_message(p).await.map_err(to_js_error)? {
            Some(m) => to_json(&JsMessage::from(&m)).map(Some),
            None => Ok(None),
        }
    }

    /// Records that the parked message at `global_position` was handled again (`replayed`
    /// true) or given up.
    #[napi]
    pub async fn settle_parked(&self, global_position: i64, replayed: bool) -> napi::Result<()> {
        let settled = if replayed {
            Settled::Replayed
        } else {
            Settled::Discarded
        };
        self.ns
            .settle_parked(&self.id, global_position, settled)
            .await
            .map_err(to_js_error)
    }

    /// Gives up every outstanding parked message; how many.
    #[napi]
    pub async fn discard_parked(&self) -> napi::Result<i64> {
        let n = self
            .ns
            .discard_parked(&self.id)
            .await
            .map_err(to_js_error)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
