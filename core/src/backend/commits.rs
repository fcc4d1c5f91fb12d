//! The commit log: how a namespace's writers tell its subscriptions what committed.
//!
//! After each commit becomes visible to readers, the writer publishes it here with a sequence
//! number and, when it is cheap, the committed messages. Writers never wait for subscribers: the
//! log is a bounded broadcast, and a subscriber that falls behind it reads storage instead
//! (`crate::subscribe`).

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::model::Message;

/// How many commits a live subscriber may fall behind before it reads from storage instead.
const LOG_CAPACITY: usize = 1024;

/// One commit, as subscribers see it.
#[derive(Debug)]
pub(crate) struct Commit {
    /// Sequence number of the commit in this process (1, 2, 3, … without gaps).
    pub seq: u64,
    /// The committed messages in global order, when the writer had them at hand; `None` means
    /// "read storage".
    pub messages: Option<Arc<[Message]>>,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Head {
    pub(crate) seq: u64,
    pub(crate) closed: bool,
    /// The last global position of the previous commit, when it is known.
    pub(crate) last_global_position: Option<i64>,
}

/// The feed of one namespace's commits.
#[derive(Debug)]
pub(crate) struct CommitLog {
    head: Mutex<Head>,
    sender: broadcast::Sender<Arc<Commit>>,
}

impl Default for CommitLog {
    fn default() -> Self {
        CommitLog {
            head: Mutex::new(Head::default()),
            sender: broadcast::Sender::new(LOG_CAPACITY),
        }
    }
}

impl CommitLog {
    /// Whether anyone listens: writers skip building the message list when no one does.
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Publishes a commit that is visible to readers, with the range of global positions it
    /// wrote (`None` when unknown) and its messages when the writer has them at hand.
    ///
    /// The messages go to subscribers only when the range follows the previous commit's directly.
    /// Otherwise someone else committed in between (another process sharing the database, a
    /// Message DB client, an import), and subscribers must read storage so as not to skip it.
    pub fn publish(&self, range: Option<(i64, i64)>, messages: Option<Arc<[Message]>>) {
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        if head.closed {
            return;
        }
        let follows = matches!((head.last_global_position, range), (Some(last), Some((first, _))) if first == last + 1);
        let messages = messages.filter(|_| follows);
        head.last_global_position = range.map(|(_, last)| last);
        head.seq += 1;
        // A send fails only when no one listens, which is fine.
        let _ = self.sender.send(Arc::new(Commit {
            seq: head.seq,
            messages,
        }));
    }

    /// Ends every subscription of this log (the store or the namespace is closing).
    pub fn close(&self) {
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        head.closed = true;
        head.seq += 1;
        let _ = self.sender.send(Arc::new(Commit {
            seq: head.seq,
            messages: None,
        }));
    }

    /// The last global position published, when known.
    pub fn last_global_position(&self) -> Option<i64> {
        self.head().last_global_position
    }

    pub(crate) fn listen(&self) -> broadcast::Receiver<Arc<Commit>> {
        self.sender.subscribe()
    }

    pub(crate) fn head(&self) -> Head {
        *self.head.lock().unwrap_or_else(|p| p.into_inner())
    }
}
