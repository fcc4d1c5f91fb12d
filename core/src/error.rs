//! The one error type of messagedb, with the stable codes every surface (Rust, JS, Python, HTTP) shares.

use std::fmt;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure of a store operation.
///
/// [`Error::code`] gives the stable wire code (`INVALID_REQUEST`, `STREAM_VERSION_CONFLICT`, …) that
/// the server, the JS facade and the Python exceptions derive from. The `Display` text is the message
/// shown on every surface.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before anything was written.
    #[error("{0}")]
    InvalidRequest(String),
    /// The stream was not at the expected version; nothing was written.
    #[error("Expected version {expected}, stream is at version {actual}")]
    VersionConflict {
        /// The stream written to.
        stream: String,
        /// The version the caller expected (-1: the stream must not exist).
        expected: i64,
        /// The stream's actual version (-1 when it has no messages).
        actual: i64,
    },
    /// A message with this id already exists in the namespace; nothing was written.
    #[error("Message ID '{0}' already exists")]
    DuplicateMessageId(String),
    /// An imported record's position or global position is taken (or not after the namespace's end).
    #[error("{message}")]
    PositionExists {
        /// What is taken.
        message: String,
        /// The index of the offending record in the imported batch, when known.
        record: Option<usize>,
    },
    /// No namespace with this id.
    #[error("Namespace '{0}' not found")]
    NamespaceNotFound(String),
    /// A namespace with this id exists already.
    #[error("Namespace '{0}' already exists")]
    NamespaceExists(String),
    /// The store (or the subscription) was closed.
    #[error("The store is closed")]
    Closed,
    /// The database failed; the source is kept.
    #[error("{message}")]
    Backend {
        /// What failed, for people.
        message: String,
        /// Whether trying again may succeed (busy database, lost connection).
        retryable: bool,
        /// The driver's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// The stable code of this error, as the server's wire protocol names it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "INVALID_REQUEST",
            Error::VersionConflict { .. } => "STREAM_VERSION_CONFLICT",
            Error::DuplicateMessageId(_) => "DUPLICATE_MESSAGE_ID",
            Error::PositionExists { .. } => "POSITION_EXISTS",
            Error::NamespaceNotFound(_) => "NAMESPACE_NOT_FOUND",
            Error::NamespaceExists(_) => "NAMESPACE_EXISTS",
            Error::Closed => "CLOSED",
            Error::Backend { .. } => "BACKEND_ERROR",
        }
    }

    /// Whether the same call may succeed when tried again (only some backend errors).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Backend {
                retryable: true,
                ..
            }
        )
    }

    /// An [`Error::InvalidRequest`] with this message.
    pub fn invalid(message: impl fmt::Display) -> Self {
        Error::InvalidRequest(message.to_string())
    }

    /// An [`Error::Backend`] wrapping a driver error.
    pub fn backend(
        message: impl fmt::Display,
        retryable: bool,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Backend {
            message: message.to_string(),
            retryable,
            source: Some(Box::new(source)),
        }
    }
}
