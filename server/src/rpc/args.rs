//! Reading RPC arguments as raw JSON, with the exact messages of wire-protocol.md §3. Values stay
//! raw so that message data round-trips exactly (large integers included).

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::error::ApiError;

/// The JSON kind of a raw value, from its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// The kind of a raw JSON value.
pub fn kind(raw: &RawValue) -> Kind {
    match raw.get().trim_start().as_bytes().first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'"') => Kind::String,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'n') => Kind::Null,
        _ => Kind::Number,
    }
}

/// A JSON object's fields, raw.
pub type Fields<'a> = HashMap<String, &'a RawValue>;

/// The object `raw` (or `None` when absent or null), `message` if it is anything else.
pub fn object<'a>(
    raw: Option<&'a RawValue>,
    message: &str,
) -> Result<Option<Fields<'a>>, ApiError> {
    match raw {
        None => Ok(None),
        Some(r) if kind(r) == Kind::Null => Ok(None),
        Some(r) if kind(r) == Kind::Object => serde_json::from_str(r.get())
            .map(Some)
            .map_err(|_| ApiError::invalid(message)),
        Some(_) => Err(ApiError::invalid(message)),
    }
}

/// A string argument; `message` when it is not one.
pub fn string(raw: Option<&RawValue>, message: &str) -> Result<String, ApiError> {
    raw.filter(|r| kind(r) == Kind::String)
        .and_then(|r| serde_json::from_str(r.get()).ok())
        .ok_or_else(|| ApiError::invalid(message))
}

/// A non-empty string argument.
pub fn non_empty(raw: Option<&RawValue>, message: &str) -> Result<String, ApiError> {
    string(raw, message).and_then(|s| {
        if s.is_empty() {
            Err(ApiError::invalid(message))
        } else {
            Ok(s)
        }
    })
}

/// An optional string field (absent or null = `None`).
pub fn opt_string(
    fields: &Fields<'_>,
    key: &str,
    message: &str,
) -> Result<Option<String>, ApiError> {
    match fields.get(key) {
        None => Ok(None),
        Some(r) if kind(r) == Kind::Null => Ok(None),
        Some(r) => string(Some(r), message).map(Some),
    }
}

/// An optional integer field (absent or null = `None`); a fraction is truncated.
pub fn opt_number(fields: &Fields<'_>, key: &str, message: &str) -> Result<Option<i64>, ApiError> {
    match fields.get(key) {
        None => Ok(None),
        Some(r) if kind(r) == Kind::Null => Ok(None),
        Some(r) if kind(r) == Kind::Number => {
            let n: serde_json::Number =
                serde_json::from_str(r.get()).map_err(|_| ApiError::invalid(message))?;
            n.as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| ApiError::invalid(message))
        }
        Some(_) => Err(ApiError::invalid(message)),
    }
}

/// The options object at `index` of the arguments (`None` when absent or null).
pub fn options<'a>(args: &[&'a RawValue], index: usize) -> Result<Option<Fields<'a>>, ApiError> {
    object(args.get(index).copied(), "options must be an object")
}
