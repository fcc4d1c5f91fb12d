//! Consumer locks on PostgreSQL (consumers.md, "One active instance"): a session advisory lock
//! on a connection of the lock's own, so it dies with the connection (the holder stopping, its
//! process dying, or the server ending the session).

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgConnection;
use tokio::sync::Mutex;

use super::conns::PgConnections;
use super::schema::map_error;
use crate::backend::ConsumerLock;
use crate::{Result, names};

/// The advisory lock key of a consumer identity in a namespace schema: the schema is part of it,
/// since advisory locks are per database and namespaces must not block one another.
pub(crate) fn consumer_lock_key(schema: &str, position_stream: &str) -> i64 {
    names::hash_64(&format!("messagedb-consumer:{schema}:{position_stream}"))
}

/// Takes the lock `key` on a connection kept for it, trying every `poll`; then waits one `poll`
/// more before answering. A holder whose session ended without it knowing (the server ended it,
/// the network failed) may still hand out messages until its next check, at most one `poll`
/// after its last one, which came before the lock was free: after that wait, it has stopped.
/// (Every instance of one identity must therefore use the same lease.)
pub(crate) async fn lock(
    conns: &PgConnections,
    key: i64,
    poll: Duration,
) -> Result<Box<dyn ConsumerLock>> {
    let mut conn = conns.connect_apart().await?;
    loop {
        let had: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .map_err(map_error)?;
        if had {
            tokio::time::sleep(poll).await;
            return Ok(Box::new(PgLock {
                conn: Mutex::new(conn),
            }));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Held for as long as its session lives; dropping it closes the connection, which ends the
/// session and releases the lock.
struct PgLock {
    conn: Mutex<PgConnection>,
}

#[async_trait]
impl ConsumerLock for PgLock {
    async fn held(&self, within: Duration) -> bool {
        let mut conn = self.conn.lock().await;
        let alive = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&mut *conn);
        matches!(tokio::time::timeout(within, alive).await, Ok(Ok(1)))
    }
}
