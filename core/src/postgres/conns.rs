//! Connections for reads and writes, kept idle between calls. A `PgPool` pings a connection each
//! time it is returned, which on a busy machine costs a read nearly half its time; here a
//! connection goes back idle as it is, or is closed when its call failed or was cancelled half-way.

use std::sync::Mutex;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::schema::map_error;
use crate::Result;

/// The connections of one store.
pub(crate) struct PgConnections {
    options: PgConnectOptions,
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
    /// At most `max` connections at once.
    pub(crate) fn new(options: PgConnectOptions, max: usize) -> Self {
        PgConnections {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max),
        }
    }

    /// An idle connection, or a new one.
    pub(crate) async fn acquire(&self) -> Result<Lent<'_>> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| crate::Error::Closed)?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => self.options.connect().await.map_err(map_error)?,
        };
        Ok(Lent {
            conn: Some(conn),
            lender: self,
            _permit: permit,
        })
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
