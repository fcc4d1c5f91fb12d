//! The JSON error body of every endpoint: `{"error":{"code","message","details"?}}`, and the one
//! mapping from core error codes to HTTP statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`INVALID_REQUEST`, `AUTH_REQUIRED`, …).
    pub code: &'static str,
    /// Message for people (the same text on every surface).
    pub message: String,
    /// Structured details, when the spec gives some.
    pub details: Option<Value>,
    /// The namespace a `NAMESPACE_NOT_FOUND` names (see `Caller::checked`).
    pub missing_namespace: Option<String>,
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            missing_namespace: None,
        }
    }

    /// 400 `INVALID_REQUEST`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.details {
            error["details"] = d.clone();
        }
        json!({ "error": error })
    }
}

impl From<messagedb::Error> for ApiError {
    fn from(e: messagedb::Error) -> Self {
        let status = match e.code() {
            "INVALID_REQUEST" => StatusCode::BAD_REQUEST,
            "STREAM_VERSION_CONFLICT"
            | "DUPLICATE_MESSAGE_ID"
            | "NAMESPACE_EXISTS"
            | "POSITION_EXISTS" => StatusCode::CONFLICT,
            "NAMESPACE_NOT_FOUND" => StatusCode::NOT_FOUND,
            "CLOSED" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
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
            status,
            code: e.code(),
            message: e.to_string(),
            details,
            missing_namespace,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
