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

/// The error vocabulary every surface shares: one stable wire string per code, its HTTP status
/// and whether a call failing with it may succeed when tried again. The server's answers, the JS
/// error classes and the Python exceptions all map from this type; adding a code is a compile
/// error in every `match` until each surface handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `INVALID_REQUEST`: the input was rejected before anything was written.
    InvalidRequest,
    /// `STREAM_VERSION_CONFLICT`: the stream was not at the expected version.
    VersionConflict,
    /// `DUPLICATE_MESSAGE_ID`: a message with this id exists.
    DuplicateMessageId,
    /// `POSITION_EXISTS`: an imported position or global position is taken.
    PositionExists,
    /// `NAMESPACE_NOT_FOUND`.
    NamespaceNotFound,
    /// `NAMESPACE_EXISTS`.
    NamespaceExists,
    /// `CLOSED`: the store (or subscription) was closed.
    Closed,
    /// `BACKEND_ERROR`: the database failed.
    Backend,
    /// `METHOD_NOT_FOUND` (server only): an RPC method the server does not have.
    MethodNotFound,
    /// `NOT_FOUND` (server only): an HTTP path the server does not have.
    NotFound,
    /// `AUTH_REQUIRED` (server only): no token.
    AuthRequired,
    /// `AUTH_INVALID_TOKEN` (server only): a token that does not parse.
    AuthInvalidToken,
    /// `AUTH_UNAUTHORIZED` (server only): a token not valid for the namespace or the call.
    AuthUnauthorized,
    /// `SERVER_START_FAILED` (packages' `serve()`): the bundled server could not start.
    ServerStartFailed,
}

impl ErrorCode {
    /// Every code, in the order of the documented table.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidRequest,
        ErrorCode::VersionConflict,
        ErrorCode::DuplicateMessageId,
        ErrorCode::PositionExists,
        ErrorCode::NamespaceNotFound,
        ErrorCode::NamespaceExists,
        ErrorCode::Closed,
        ErrorCode::Backend,
        ErrorCode::MethodNotFound,
        ErrorCode::NotFound,
        ErrorCode::AuthRequired,
        ErrorCode::AuthInvalidToken,
        ErrorCode::AuthUnauthorized,
        ErrorCode::ServerStartFailed,
    ];

    /// The stable wire string (`"INVALID_REQUEST"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::VersionConflict => "STREAM_VERSION_CONFLICT",
            ErrorCode::DuplicateMessageId => "DUPLICATE_MESSAGE_ID",
            ErrorCode::PositionExists => "POSITION_EXISTS",
            ErrorCode::NamespaceNotFound => "NAMESPACE_NOT_FOUND",
            ErrorCode::NamespaceExists => "NAMESPACE_EXISTS",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::Backend => "BACKEND_ERROR",
            ErrorCode::MethodNotFound => "METHOD_NOT_FOUND",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AuthRequired => "AUTH_REQUIRED",
            ErrorCode::AuthInvalidToken => "AUTH_INVALID_TOKEN",
            ErrorCode::AuthUnauthorized => "AUTH_UNAUTHORIZED",
            ErrorCode::ServerStartFailed => "SERVER_START_FAILED",
        }
    }

    /// The code of a wire string, `None` for one that is not in the table.
    pub fn from_wire(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// The HTTP status the server answers with (wire-protocol.md §3). A route may answer a
    /// different one for the same code (405 and 413 are `INVALID_REQUEST`).
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::AuthRequired | ErrorCode::AuthInvalidToken => 401,
            ErrorCode::AuthUnauthorized => 403,
            ErrorCode::MethodNotFound | ErrorCode::NotFound | ErrorCode::NamespaceNotFound => 404,
            ErrorCode::VersionConflict
            | ErrorCode::DuplicateMessageId
            | ErrorCode::PositionExists
            | ErrorCode::NamespaceExists => 409,
            ErrorCode::Backend | ErrorCode::ServerStartFailed => 500,
            ErrorCode::Closed => 503,
        }
    }

    /// Whether a call failing with this code may succeed when tried again unchanged: `CLOSED`
    /// never; `BACKEND_ERROR` may (each error says, [`Error::is_retryable`]); the rest are
    /// answers about the input or the data, which trying again does not change.
    pub const fn may_retry(self) -> bool {
        matches!(self, ErrorCode::Backend)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The code of this error.
    pub fn kind(&self) -> ErrorCode {
        match self {
            Error::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Error::VersionConflict { .. } => ErrorCode::VersionConflict,
            Error::DuplicateMessageId(_) => ErrorCode::DuplicateMessageId,
            Error::PositionExists { .. } => ErrorCode::PositionExists,
            Error::NamespaceNotFound(_) => ErrorCode::NamespaceNotFound,
            Error::NamespaceExists(_) => ErrorCode::NamespaceExists,
            Error::Closed => ErrorCode::Closed,
            Error::Backend { .. } => ErrorCode::Backend,
        }
    }

    /// The stable code of this error, as the server's wire protocol names it.
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table: wire string, status, retry flag, and the round trip through the wire.
    #[test]
    fn the_code_table() {
        let table: Vec<(&str, u16, bool)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.http_status(), c.may_retry()))
            .collect();
        assert_eq!(
            table,
            [
                ("INVALID_REQUEST", 400, false),
                ("STREAM_VERSION_CONFLICT", 409, false),
                ("DUPLICATE_MESSAGE_ID", 409, false),
                ("POSITION_EXISTS", 409, false),
                ("NAMESPACE_NOT_FOUND", 404, false),
                ("NAMESPACE_EXISTS", 409, false),
                ("CLOSED", 503, false),
                ("BACKEND_ERROR", 500, true),
                ("METHOD_NOT_FOUND", 404, false),
                ("NOT_FOUND", 404, false),
                ("AUTH_REQUIRED", 401, false),
                ("AUTH_INVALID_TOKEN", 401, false),
                ("AUTH_UNAUTHORIZED", 403, false),
                ("SERVER_START_FAILED", 500, false),
            ]
        );
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::from_wire("NO_SUCH_CODE"), None);
    }
}
