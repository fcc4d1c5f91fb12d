//! The JSON error body of every endpoint: `{"error":{"code","message","details"?}}`. Codes and
//! their HTTP statuses come from core's [`ErrorCode`], the one table every surface shares.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use messagedb::ErrorCode;
use serde_json::{Value, json};

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status (the code's, unless the route answers another: 405, 413).
    pub status: StatusCode,
    /// Stable code.
    pub code: ErrorCode,
    /// Message for people (the same text on every surface).
    pub message: String,
    /// Structured details, when the spec gives some.
    pub details: Option<Value>,
    /// The namespace a `NAMESPACE_NOT_FOUND` names (see `Caller::checked`).
    pub missing_namespace: Option<String>,
}

impl ApiError {
    /// An error with a code, answered with the code's status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
            details: None,
            missing_namespace: None,
        }
    }

    /// 400 `INVALID_REQUEST`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, message)
    }

    /// Answers with another status than the code's (405 and 413 are `INVALID_REQUEST`).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code.as_str(), "message": self.message});
        if let Some(d) = &self.details {
            error["details"] = d.clone();
        }
        json!({ "error": error })
    }
}

impl From<messagedb::Error> for ApiError {
    fn from(e: messagedb::Error) -> Self {
        let code = e.kind();
        if code == ErrorCode::Backend {
            tracing::error!(error = %e, "backend error");
        }
        let details = match &e {
            messagedb::Error::VersionConflict {
                expected, actual, ..
            } => Some(json!({"expected": expected, "actual": actual})),
            _ => None,
        };
        let missing_namespace = match &e {
            messagedb::Error::NamespaceNotFound(id) => Some(id.clone()),
            _ => None,
        };
        ApiError {
            details,
            missing_namespace,
            ..ApiError::new(code, e.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
