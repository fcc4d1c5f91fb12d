//! The options of each operation (`#[non_exhaustive]`, with `Default` and builder methods, so a
//! new option is not a breaking change).

use super::json::JsonObject;
use crate::{Error, Result};

/// Options of a write.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct WriteOpts {
    /// The version the stream must be at (-1: the stream must have no messages).
    pub expected_version: Option<i64>,
}

impl WriteOpts {
    /// Expect the stream at `version` (-1 = empty).
    pub fn expect(version: i64) -> Self {
        WriteOpts {
            expected_version: Some(version),
        }
    }
}

/// The default number of messages a read returns.
pub const DEFAULT_BATCH_SIZE: i64 = 1000;
/// The largest batch size a read accepts (besides -1, unlimited).
pub const MAX_BATCH_SIZE: i64 = 10_000;

/// Options of a stream read.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct GetStreamOpts {
    /// First stream position to return (inclusive; default 0; negative = from the start).
    pub position: Option<i64>,
    /// When given, replaces `position`: messages with a global position ≥ this, still in stream order.
    pub global_position: Option<i64>,
    /// How many messages at most (default 1000, max 10000; -1, 0 or negative = unlimited).
    pub batch_size: Option<i64>,
}

impl GetStreamOpts {
    /// Start at this stream position (inclusive).
    pub fn position(mut self, position: i64) -> Self {
        self.position = Some(position);
        self
    }

    /// Start at this global position instead (inclusive), still in stream order.
    pub fn global_position(mut self, global_position: i64) -> Self {
        self.global_position = Some(global_position);
        self
    }

    /// Return at most this many messages (-1 = unlimited).
    pub fn batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = Some(batch_size);
        self
    }
}

/// A consumer group member: `member` of `size` (0 ≤ member < size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// This consumer's member number.
    pub member: i64,
    /// How many members the group has.
    pub size: i64,
}

impl ConsumerGroup {
    /// Checks the rules of wire-protocol.md §3.
    ///
    /// # Errors
    /// `INVALID_REQUEST` with the wire messages.
    pub fn new(member: i64, size: i64) -> Result<Self> {
        if member < 0 {
            return Err(Error::invalid(
                "options.consumerGroup.member must be non-negative",
            ));
        }
        if size <= 0 {
            return Err(Error::invalid(
                "options.consumerGroup.size must be positive",
            ));
        }
        if member >= size {
            return Err(Error::invalid(
                "options.consumerGroup.member must be < size",
            ));
        }
        Ok(ConsumerGroup { member, size })
    }

    /// A group from optional parts: both (checked as [`ConsumerGroup::new`]) or neither (`None`).
    ///
    /// # Errors
    /// `INVALID_REQUEST` "options.consumerGroup requires both member and size" for one alone.
    pub fn from_parts(member: Option<i64>, size: Option<i64>) -> Result<Option<Self>> {
        match (member, size) {
            (None, None) => Ok(None),
            (Some(member), Some(size)) => ConsumerGroup::new(member, size).map(Some),
            _ => Err(Error::invalid(
                "options.consumerGroup requires both member and size",
            )),
        }
    }
}

/// Options of a category read.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CategoryOpts {
    /// First global position to return (inclusive; default 1).
    pub position: Option<i64>,
    /// How many messages at most (default 1000, max 10000; -1, 0 or negative = unlimited).
    pub batch_size: Option<i64>,
    /// Keep only messages whose `metadata.correlationStreamName` has this category (`""` = all).
    pub correlation: Option<String>,
    /// Keep only the streams of this consumer group member (applied before the batch limit).
    pub consumer_group: Option<ConsumerGroup>,
}

impl CategoryOpts {
    /// Start at this global position (inclusive).
    pub fn position(mut self, position: i64) -> Self {
        self.position = Some(position);
        self
    }

    /// Return at most this many messages (-1 = unlimited).
    pub fn batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = Some(batch_size);
        self
    }

    /// Keep only messages correlated with this category.
    pub fn correlation(mut self, category: impl Into<String>) -> Self {
        self.correlation = Some(category.into());
        self
    }

    /// Keep only this consumer group member's streams.
    pub fn consumer_group(mut self, group: ConsumerGroup) -> Self {
        self.consumer_group = Some(group);
        self
    }
}

/// The effective limit of a batch size option, `None` = unlimited.
pub(crate) fn batch_limit(batch_size: Option<i64>) -> Result<Option<i64>> {
    match batch_size.unwrap_or(DEFAULT_BATCH_SIZE) {
        n if n > MAX_BATCH_SIZE => Err(Error::invalid(
            "options.batchSize must be <= 10000 or -1 for unlimited",
        )),
        n if n <= 0 => Ok(None),
        n => Ok(Some(n)),
    }
}

/// A namespace to create.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct NamespaceOpts {
    /// Free text.
    pub description: Option<String>,
    /// The namespace's token (must name this namespace); generated when `None`.
    pub token: Option<String>,
    /// Free JSON metadata.
    pub metadata: Option<JsonObject>,
}

impl NamespaceOpts {
    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the token (it must name the namespace).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the metadata.
    pub fn metadata(mut self, metadata: JsonObject) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// Options of a stream listing.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ListStreamsOpts {
    /// Only names starting with this (plain prefix, no wildcards).
    pub prefix: Option<String>,
    /// Only names after this one (exclusive, byte order).
    pub cursor: Option<String>,
    /// How many at most (1..=1000, default 100).
    pub limit: Option<i64>,
}

impl ListStreamsOpts {
    /// Only names starting with this.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Only names after this one.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// At most this many (1..=1000).
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = Some(limit);
        self
    }
}
