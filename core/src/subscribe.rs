//! Subscriptions: history from storage, then live from commit notifications, exactly once and in
//! order, with bounded memory.
//!
//! Every backend namespace owns a commit log (`crate::backend::CommitLog`), where its writers
//! publish each commit once it is visible to readers. A subscription reads pages from storage until it is caught up, then follows the log. When it
//! falls behind the log's bounded buffer, sees a gap in sequence numbers, or gets a commit without
//! its messages (an import, another process's write), it goes back to reading storage from its
//! cursor. Writers never wait for subscribers, and a slow subscriber costs no memory beyond one page.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::backend::{Commit, NamespaceBackend};
use crate::model::{CategoryOpts, ConsumerGroup, GetStreamOpts, Message};
use crate::{Error, Result, names};

/// How many messages a subscription reads from storage at a time.
const PAGE_SIZE: i64 = 500;

/// What a subscription follows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionTarget {
    /// One stream, from a stream position.
    Stream(String),
    /// One category, from a global position, optionally one consumer group member's share.
    Category(String, Option<ConsumerGroup>),
    /// Every message of the namespace, from a global position.
    All,
}

/// Options of a subscription.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SubscribeOpts {
    /// What to follow.
    pub target: SubscriptionTarget,
    /// Where to start: a stream position for a stream, a global position otherwise (inclusive).
    pub position: i64,
}

impl SubscribeOpts {
    /// Follow one stream from its first message.
    pub fn stream(name: impl Into<String>) -> Self {
        SubscribeOpts {
            target: SubscriptionTarget::Stream(name.into()),
            position: 0,
        }
    }

    /// Follow one category from its first message.
    pub fn category(name: impl Into<String>) -> Self {
        SubscribeOpts {
            target: SubscriptionTarget::Category(name.into(), None),
            position: 0,
        }
    }

    /// Follow every message of the namespace.
    pub fn all() -> Self {
        SubscribeOpts {
            target: SubscriptionTarget::All,
            position: 0,
        }
    }

    /// Start at this position (stream position for a stream, global position otherwise).
    pub fn from_position(mut self, position: i64) -> Self {
        self.position = position;
        self
    }

    /// What a request asks for: exactly one of a stream, a category or everything. The messages
    /// are the server's `/subscribe` ones, shared by every surface.
    ///
    /// # Errors
    /// `INVALID_REQUEST`.
    pub fn target(stream: Option<&str>, category: Option<&str>, all: bool) -> Result<Self> {
        let stream = stream.filter(|s| !s.is_empty());
        let category = category.filter(|c| !c.is_empty());
        match (stream, category, all) {
            (Some(_), _, true) | (_, Some(_), true) => Err(Error::invalid(
                "Cannot combine 'all' with 'stream' or 'category'",
            )),
            (Some(_), Some(_), false) => Err(Error::invalid(
                "Cannot specify both 'stream' and 'category'",
            )),
            (Some(s), None, false) => Ok(SubscribeOpts::stream(s)),
            (None, Some(c), false) => Ok(SubscribeOpts::category(c)),
            (None, None, true) => Ok(SubscribeOpts::all()),
            (None, None, false) => Err(Error::invalid(
                "Either 'stream', 'category', or 'all=true' parameter required",
            )),
        }
    }

    /// Applies a requested consumer group (`member`, `size`) to a category subscription; both or
    /// neither, with the server's `/subscribe` messages. Ignored for streams and `all`.
    ///
    /// # Errors
    /// `INVALID_REQUEST`.
    pub fn with_group(self, member: Option<i64>, size: Option<i64>) -> Result<Self> {
        let (Some(m), Some(s)) = (member, size) else {
            return Ok(self);
        };
        if !matches!(self.target, SubscriptionTarget::Category(..)) {
            return Ok(self);
        }
        if m < 0 {
            return Err(Error::invalid("Invalid consumer parameter"));
        }
        if s <= 0 {
            return Err(Error::invalid("Invalid size parameter"));
        }
        if m >= s {
            return Err(Error::invalid(
                "Invalid consumer group: member must be < size",
            ));
        }
        Ok(self.consumer_group(ConsumerGroup { member: m, size: s }))
    }

    /// Only the streams of this consumer group member (category subscriptions).
    pub fn consumer_group(mut self, group: ConsumerGroup) -> Self {
        if let SubscriptionTarget::Category(_, g) = &mut self.target {
            *g = Some(group);
        }
        self
    }
}

/// A live subscription: call [`Subscription::next`] for each message. Dropping it frees everything.
pub struct Subscription {
    namespace: Arc<dyn NamespaceBackend>,
    target: SubscriptionTarget,
    /// The next position to deliver (stream position for a stream, global position otherwise).
    next: i64,
    buffer: VecDeque<Message>,
    receiver: broadcast::Receiver<Arc<Commit>>,
    /// Every commit up to this sequence number has been read, from storage or from the log.
    seen_seq: u64,
    live: bool,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("target", &self.target)
            .field("next", &self.next)
            .field("live", &self.live)
            .finish()
    }
}

impl Subscription {
    pub(crate) fn new(namespace: Arc<dyn NamespaceBackend>, opts: SubscribeOpts) -> Result<Self> {
        match &opts.target {
            SubscriptionTarget::Stream(s) => crate::rules::check_stream_name(s)?,
            SubscriptionTarget::Category(c, _) if c.is_empty() => {
                return Err(Error::invalid("category must be a non-empty string"));
            }
            SubscriptionTarget::Category(c, _) => crate::rules::check_category(c)?,
            _ => {}
        }
        let receiver = namespace.commits().listen();
        namespace.clone().watch_other_writers();
        let floor = match opts.target {
            SubscriptionTarget::Stream(_) => 0,
            _ => 1,
        };
        Ok(Subscription {
            namespace,
            target: opts.target,
            next: opts.position.max(floor),
            buffer: VecDeque::new(),
            receiver,
            seen_seq: 0,
            live: false,
        })
    }

    /// The next message if one is already read and waiting (no I/O, no waiting).
    pub(crate) fn next_buffered(&mut self) -> Option<Message> {
        self.buffer.pop_front()
    }

    /// The next message: history first, then live ones as they commit.
    ///
    /// Returns `None` once the store or the namespace is closed.
    ///
    /// # Errors
    /// `BACKEND_ERROR` when storage fails; the subscription can be polled again.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        loop {
            if let Some(message) = self.buffer.pop_front() {
                return Some(Ok(message));
            }
            if !self.live {
                if let Err(e) = self.catch_up().await {
                    return Some(Err(e));
                }
                continue;
            }
            match self.receiver.recv().await {
                Ok(commit) => {
                    if commit.seq <= self.seen_seq {
                        continue;
                    }
                    match &commit.messages {
                        Some(messages) if commit.seq == self.seen_seq + 1 => {
                            self.seen_seq = commit.seq;
                            for m in messages.iter() {
                                self.offer(m);
                            }
                        }
                        _ => {
                            if self.namespace.commits().head().closed {
                                return None;
                            }
                            self.live = false;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.live = false,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Reads one page from storage; turns live when the page shows the end was reached.
    async fn catch_up(&mut self) -> Result<()> {
        // Invariant: the log's head is read BEFORE the page. Every commit published up to this
        // head is visible to the page's read, so a subscription that turns live here and skips
        // commits up to `head.seq` has them all; one that committed after the head comes through
        // the log (its sequence number is above the head). Read after the page, a commit in
        // between would be skipped by both.
        let head = self.namespace.commits().head();
        if head.closed {
            return Err(Error::Closed);
        }
        let page = self.read_page().await?;
        let caught_up = (page.len() as i64) < PAGE_SIZE;
        for m in &page {
            self.offer(m);
        }
        if caught_up {
            self.seen_seq = head.seq;
            self.live = true;
        }
        Ok(())
    }

    async fn read_page(&self) -> Result<Vec<Message>> {
        match &self.target {
            SubscriptionTarget::Stream(stream) => {
                let opts = GetStreamOpts {
                    position: Some(self.next),
                    batch_size: Some(PAGE_SIZE),
                    ..Default::default()
                };
                self.namespace.get_stream(stream, &opts).await
            }
            SubscriptionTarget::Category(category, group) => {
                let opts = CategoryOpts {
                    position: Some(self.next),
                    batch_size: Some(PAGE_SIZE),
                    consumer_group: *group,
                    ..Default::default()
                };
                self.namespace.get_category(category, &opts).await
            }
            SubscriptionTarget::All => {
                let opts = CategoryOpts {
                    position: Some(self.next),
                    batch_size: Some(PAGE_SIZE),
                    ..Default::default()
                };
                self.namespace.get_category("", &opts).await
            }
        }
    }

    /// Buffers a message if it matches and comes at or after the cursor, and moves the cursor.
    fn offer(&mut self, m: &Message) {
        let key = match &self.target {
            SubscriptionTarget::Stream(stream) => {
                if m.stream_name != *stream {
                    return;
                }
                m.position
            }
            SubscriptionTarget::Category(category, group) => {
                if names::category(&m.stream_name) != category
                    || group.is_some_and(|g| {
                        !names::in_consumer_group(&m.stream_name, g.member, g.size)
                    })
                {
                    return;
                }
                m.global_position
            }
            SubscriptionTarget::All => m.global_position,
        };
        if key >= self.next {
            self.next = key + 1;
            self.buffer.push_back(m.clone());
        }
    }
}
