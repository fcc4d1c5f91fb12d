//! What a store is opened with: its options, and the namespace every store has.

/// The namespace every store has.
pub const DEFAULT_NAMESPACE: &str = "default";

/// How hard a SQLite file database works to keep a write once acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous=FULL`: every commit is on disk before it is acknowledged (the default).
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, not of the machine.
    Normal,
    /// `synchronous=OFF`: for throwaway data.
    Off,
}

/// Options of [`Store::open_with`](crate::Store::open_with).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StoreOptions {
    /// SQLite file durability (ignored in memory and on PostgreSQL).
    pub durability: Durability,
    /// PostgreSQL: how many connections reads and writes use at most (default 16; the URL
    /// parameter `pool_size` sets it too). Namespace administration and imports use a second pool
    /// of the same size, and notifications one more connection.
    pub pool_size: Option<u32>,
    /// PostgreSQL: how long a call waits for a connection before it fails with a retryable
    /// `BACKEND_ERROR` (default 30 s; the URL parameter `acquire_timeout` sets it too, in seconds).
    pub acquire_timeout: Option<std::time::Duration>,
    /// PostgreSQL: how often a namespace with subscribers in this process looks for commits that
    /// sent no notification — plain SQL `write_message` calls, the clients of an adopted Message
    /// DB schema — and wakes its subscribers when it finds one (default 1 s). messagedb's own
    /// commits wake subscribers in every process at once (LISTEN/NOTIFY).
    pub external_poll: Option<std::time::Duration>,
}
