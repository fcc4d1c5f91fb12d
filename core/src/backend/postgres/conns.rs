//! Connections for reads and writes, kept idle between calls. A `PgPool` pings a connection each
//! time it is returned, which on a busy machine costs a read nearly half its time; here a
//! connection goes back idle as it is, or is closed when its call failed or was cancelled half-way.

use std::sync::Mutex;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::schema::map_error;
use crate::{Error, Result};

/// The connections of one store.
pub(crate) struct PgConnections {
    options: PgConnectOptions,
    /// How long a call waits for a connection.
    wait: Duration,
    idle: Mutex<Vec<PgConnection>>,
    permits: Semaphore,
}

/// A connection lent for one call.
pub(crate) struct Lent<'a> {
    conn: Option<PgConnection>,
    lender: &'a PgConnections,
    _permit: SemaphorePermit<'a>,
}

impl PgConnections {
    /// At most `max` connections at once; a call waits at most `wait` for one.
    pub(crate) fn new(options: PgConnectOptions, max: usize, wait: Duration) -> Self {
        PgConnections {
            options,
            wait,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max),
        }
    }

    /// An idle connection, or a new one, within the store's acquire timeout.
    ///
    /// # Errors
    /// A retryable `BACKEND_ERROR` when none is had in time; `CLOSED`.
    pub(crate) async fn acquire(&self) -> Result<Lent<'_>> {
        let timed_out = || Error::Backend {
            message: format!(
                "PostgreSQL: no connection within {:?} (raise pool_size or acquire_timeout)",
                self.wait
            ),
            retryable: true,
            source: None,
        };
        let deadline = tokio::time::Instant::now() + self.wait;
        let permit = tokio::time::timeout_at(deadline, self.permits.acquire())
            .await
            .map_err(|_| timed_out())?
            .map_err(|_| Error::Closed)?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => tokio::time::timeout_at(deadline, self.options.connect())
                .await
                .map_err(|_| timed_out())?
                .map_err(map_error)?,
        };
        Ok(Lent {
            conn: Some(conn),
            lender: self,
            _permit: permit,
        })
    }

    /// A connection of its own, outside the pool's count (a consumer's lock holds one for as long
    /// as it runs), within the store's acquire timeout.
    ///
    /// # Errors
    /// A retryable `BACKEND_ERROR` when none is had in time; `CLOSED`.
    pub(crate) async fn connect_apart(&self) -> Result<PgConnection> {
        if self.permits.is_closed() {
            return Err(Error::Closed);
        }
        tokio::time::timeout(self.wait, self.options.connect())
            .await
            .map_err(|_| Error::Backend {
                message: format!("PostgreSQL: no connection within {:?}", self.wait),
                retryable: true,
                source: None,
            })?
            .map_err(map_error)
    }

    /// Closes the idle connections; later calls fail.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl Lent<'_> {
    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a lent connection is held until released")
    }

    /// Returns the connection after a call that completed (dropping it instead closes it).
    pub(crate) fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            self.lender
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
    }
}
