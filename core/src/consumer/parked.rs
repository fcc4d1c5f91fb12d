//! Parked messages (consumers.md, "Failure"): a message that failed every try is recorded in the
//! consumer's parked stream as a `Parked` message, and the consumer goes on. Nothing is ever
//! removed: replaying or discarding it appends a `Replayed` or `Discarded` message naming the
//! parked message's global position, and a parked message is outstanding until one does.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::ConsumerId;
use crate::model::{GetStreamOpts, Message, NewMessage, WriteOpts};
use crate::store::Namespace;
use crate::{Error, Result};

/// The type of parked-message records.
pub const PARKED: &str = "Parked";
/// The type of the record that a parked message was handled again.
pub const REPLAYED: &str = "Replayed";
/// The type of the record that a parked message was given up.
pub const DISCARDED: &str = "Discarded";

/// A parked message: where it is, and why it was parked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Parked {
    /// The parked message's stream.
    pub stream_name: String,
    /// Its position in that stream.
    pub position: i64,
    /// Its global position (which names it in `Replayed` / `Discarded` records).
    pub global_position: i64,
    /// Its type.
    pub message_type: String,
    /// Its id.
    pub id: String,
    /// The error of its last try.
    pub error: String,
    /// How many times it was tried.
    pub attempts: u32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

impl Parked {
    /// The `Parked` record's data (consumers.md: `{stream, position, globalPosition, type, id,
    /// error, attempts}`).
    pub(crate) fn record(message: &Message, error: &str, attempts: u32) -> Result<NewMessage> {
        NewMessage::new(
            PARKED,
            json!({
                "stream": message.stream_name,
                "position": message.position,
                "globalPosition": message.global_position,
                "type": message.message_type,
                "id": message.id.to_string(),
                "error": error,
                "attempts": attempts,
            }),
        )
    }

    /// Reads a `Parked` record; `None` for one whose data is not of that shape.
    fn read(record: &Message) -> Option<Parked> {
        let data = record.data.to_value();
        let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_owned);
        let number = |k: &str| data.get(k).and_then(Value::as_i64);
        Some(Parked {
            stream_name: text("stream")?,
            position: number("position")?,
            global_position: number("globalPosition")?,
            message_type: text("type")?,
            id: text("id")?,
            error: text("error").unwrap_or_default(),
            attempts: u32::try_from(number("attempts").unwrap_or(0)).unwrap_or(u32::MAX),
            parked_at: record.time,
        })
    }
}

/// What became of a parked message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settled {
    /// It was handled again (a `Replayed` record).
    Replayed,
    /// It was given up (a `Discarded` record).
    Discarded,
}

impl Settled {
    fn message_type(self) -> &'static str {
        match self {
            Settled::Replayed => REPLAYED,
            Settled::Discarded => DISCARDED,
        }
    }
}

/// What a replay of parked messages did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replay {
    /// Handled this time (each now has a `Replayed` record).
    pub replayed: u64,
    /// Failed again, with their errors; they stay parked.
    pub failed: Vec<(Parked, String)>,
}

impl Namespace {
    /// The messages a consumer parked and that were not replayed or discarded since, oldest
    /// first.
    ///
    /// # Errors
    /// As `get_stream`.
    pub async fn parked(&self, id: &ConsumerId) -> Result<Vec<Parked>> {
        let all = GetStreamOpts::default().batch_size(-1);
        let records = self.get_stream(&id.parked_stream(), &all).await?;
        let mut outstanding = BTreeMap::new();
        for record in &records {
            match record.message_type.as_str() {
                PARKED => {
                    if let Some(p) = Parked::read(record) {
                        outstanding.insert(record.global_position, p);
                    }
                }
                REPLAYED | DISCARDED => {
                    let data = record.data.to_value();
                    let settled = data.get("globalPosition").and_then(Value::as_i64);
                    outstanding.retain(|_, p: &mut Parked| Some(p.global_position) != settled);
                }
                _ => {}
            }
        }
        Ok(outstanding.into_values().collect())
    }

    /// The message that was parked, read from its stream (`None` when it is gone, its namespace
    /// cleared or its stream rewritten by an import).
    ///
    /// # Errors
    /// As `get_stream`.
    pub async fn parked_message(&self, parked: &Parked) -> Result<Option<Message>> {
        let one = GetStreamOpts::default()
            .position(parked.position)
            .batch_size(1);
        let found = self.get_stream(&parked.stream_name, &one).await?;
        Ok(found
            .into_iter()
            .next()
            .filter(|m| m.global_position == parked.global_position))
    }

    /// Records what became of a parked message (by its global position).
    ///
    /// # Errors
    /// `INVALID_REQUEST` when no outstanding parked message has this global position; as writes.
    pub async fn settle_parked(
        &self,
        id: &ConsumerId,
        global_position: i64,
        settled: Settled,
    ) -> Result<()> {
        if !self
            .parked(id)
            .await?
            .iter()
            .any(|p| p.global_position == global_position)
        {
            return Err(Error::invalid(format!(
                "no parked message of {} has global position {global_position}",
                id.identifier()
            )));
        }
        self.record_settled(id, global_position, settled).await
    }

    async fn record_settled(
        &self,
        id: &ConsumerId,
        global_position: i64,
        settled: Settled,
    ) -> Result<()> {
        let record = NewMessage::new(
            settled.message_type(),
            json!({ "globalPosition": global_position }),
        )?;
        self.write(&id.parked_stream(), record, WriteOpts::default())
            .await?;
        Ok(())
    }

    /// Hands each outstanding parked message to `handler` again, oldest first: one it handles is
    /// recorded `Replayed`; one it fails stays parked, with the error in the result. A parked
    /// message whose original is gone is recorded `Discarded`.
    ///
    /// # Errors
    /// As reads and writes; the handler's errors are in the result.
    pub async fn replay_parked<F, Fut, E>(&self, id: &ConsumerId, mut handler: F) -> Result<Replay>
    where
        F: FnMut(Message) -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: Display,
    {
        let mut replay = Replay::default();
        for parked in self.parked(id).await? {
            let Some(message) = self.parked_message(&parked).await? else {
                self.record_settled(id, parked.global_position, Settled::Discarded)
                    .await?;
                continue;
            };
            match handler(message).await {
                Ok(()) => {
                    self.record_settled(id, parked.global_position, Settled::Replayed)
                        .await?;
                    replay.replayed += 1;
                }
                Err(e) => replay.failed.push((parked, e.to_string())),
            }
        }
        Ok(replay)
    }

    /// Gives up every outstanding parked message (a `Discarded` record each); returns how many.
    ///
    /// # Errors
    /// As writes.
    pub async fn discard_parked(&self, id: &ConsumerId) -> Result<u64> {
        let outstanding = self.parked(id).await?;
        for p in &outstanding {
            self.record_settled(id, p.global_position, Settled::Discarded)
                .await?;
        }
        Ok(outstanding.len() as u64)
    }
}
