//! [`JsonObject`]: message data and metadata kept as their JSON text.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::rules::check_json;
use crate::{Error, Result};

/// A JSON object, kept as its text so that every value round-trips exactly (large integers too).
///
/// Text from callers is validated once; text read back from storage is trusted (it was validated
/// when written) and only parsed when serialized. Equality compares the text.
#[derive(Clone)]
pub struct JsonObject(String);

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for JsonObject {}

impl JsonObject {
    /// Parses JSON text that must be an object. `what` names the value in the error message
    /// (`"message.data"` → "message.data must be an object").
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the text is not JSON or not an object.
    pub fn from_json(text: &str, what: &str) -> Result<Self> {
        Self::from_raw(Self::parse_raw(text, what)?, what)
    }

    /// JSON text as a raw value, not yet checked to be an object (for [`crate::MessageInput`]).
    ///
    /// # Errors
    /// `INVALID_REQUEST` "`<what>` is not valid JSON: …".
    pub fn parse_raw<'a>(text: &'a str, what: &str) -> Result<&'a RawValue> {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("{what} is not valid JSON: {e}")))
    }

    /// Takes already parsed raw JSON that must be an object.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when it is not an object.
    pub fn from_raw(raw: &RawValue, what: &str) -> Result<Self> {
        if !raw.get().trim_start().starts_with('{') {
            return Err(Error::invalid(format!("{what} must be an object")));
        }
        check_json(raw.get(), what)?;
        Ok(JsonObject(raw.get().to_owned()))
    }

    /// Converts a `serde_json::Value` that must be an object.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when it is not an object.
    pub fn from_value(value: &serde_json::Value, what: &str) -> Result<Self> {
        if !value.is_object() {
            return Err(Error::invalid(format!("{what} must be an object")));
        }
        let text = serde_json::to_string(value)
            .map_err(|e| Error::invalid(format!("{what} cannot be encoded: {e}")))?;
        check_json(&text, what)?;
        Ok(JsonObject(text))
    }

    /// Text read back from storage, trusted to be the object it was written as.
    pub(crate) fn from_stored(text: String) -> Self {
        JsonObject(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON as a raw value, for embedding in a larger serialized document without re-encoding.
    ///
    /// # Errors
    /// When stored text is not JSON (a corrupt database).
    pub fn as_raw(&self) -> serde_json::Result<&RawValue> {
        serde_json::from_str(&self.0)
    }

    /// Parses the object into a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl std::fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.as_raw()
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}
