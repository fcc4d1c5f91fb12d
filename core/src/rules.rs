//! The input rules every surface shares (Guarantee 4 of design.md): checked here, in core, before
//! any backend sees the input, so that the server, the npm package and the Python package give the
//! same answer with the same message on SQLite and on PostgreSQL.
//!
//! Each rule either rejects with `INVALID_REQUEST` or stores the input losslessly on both backends.
//! What PostgreSQL cannot store (a U+0000 character in text, a lone UTF-16 surrogate or an
//! out-of-range number in `jsonb`, an index key over its page limit) is refused on SQLite too, so
//! that a namespace always moves between the backends (export, import) intact.
//!
//! The rules read plain text and numbers, so they depend on nothing but the error type; the
//! model's constructors and the store call them.

use crate::{Error, Result};

/// The longest stream name, in bytes of UTF-8. PostgreSQL indexes the name (and its category,
/// with the correlation's category) in B-tree entries of at most 2704 bytes.
pub const MAX_STREAM_NAME_BYTES: usize = 1024;
/// The longest message type, in bytes of UTF-8.
pub const MAX_TYPE_BYTES: usize = 1024;
/// The longest namespace description, in bytes of UTF-8.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// The largest global position (and stream position) a message can have: 2^53 − 1, the largest
/// integer JavaScript represents exactly. A write that would go past it fails; positions never wrap.
pub const MAX_GLOBAL_POSITION: i64 = (1 << 53) - 1;
/// The largest position an import may bring in: 2^52, which leaves 2^52 global positions for the
/// writes that follow.
pub const MAX_IMPORTED_POSITION: i64 = 1 << 52;
/// The deepest nesting of arrays and objects in message data (what JSON parsers such as
/// serde_json read back by default).
pub const MAX_JSON_DEPTH: usize = 128;
/// The largest decimal exponent of a JSON number in message data (PostgreSQL's `numeric`).
const MAX_NUMBER_WEIGHT: i64 = 131_071;
/// The most digits after the decimal point of a JSON number in message data.
const MAX_NUMBER_SCALE: i64 = 16_383;

/// A text argument: no U+0000 (PostgreSQL's `text` cannot hold it) and at most `max` bytes.
///
/// # Errors
/// `INVALID_REQUEST` "`<what>` must not contain the character U+0000" or "`<what>` must be at most
/// `<max>` bytes".
pub fn check_text(text: &str, what: &str, max: usize) -> Result<()> {
    if text.len() > max {
        return Err(Error::invalid(format!(
            "{what} must be at most {max} bytes"
        )));
    }
    if text.as_bytes().contains(&0) {
        return Err(Error::invalid(format!(
            "{what} must not contain the character U+0000"
        )));
    }
    Ok(())
}

/// Checks a namespace id: 1–128 characters of `[A-Za-z0-9_.-]`.
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_namespace_id(id: &str) -> Result<()> {
    check_identifier(id, "namespace ID")
}

/// Checks a consumer's name: 1–128 characters of `[A-Za-z0-9_.-]`, as a namespace id.
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_consumer_name(name: &str) -> Result<()> {
    check_identifier(name, "consumer name")
}

/// 1–128 characters of `[A-Za-z0-9_.-]`; `what` names it in the messages.
fn check_identifier(id: &str, what: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(format!("{what} must be a non-empty string")));
    }
    if id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(Error::invalid(format!(
            "{what} must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'"
        )));
    }
    Ok(())
}

/// A TCP port to listen on (0 = any free port).
///
/// # Errors
/// `INVALID_REQUEST` "port must be between 0 and 65535" — never truncated.
pub fn check_port(port: i64) -> Result<u16> {
    u16::try_from(port).map_err(|_| Error::invalid("port must be between 0 and 65535"))
}

/// A message id as given by a caller: absent or `""` means "generate one"; anything else must be
/// a UUID.
///
/// # Errors
/// `INVALID_REQUEST` "`<what>` must be a UUID".
pub fn message_id(id: Option<&str>, what: &str) -> Result<Option<uuid::Uuid>> {
    match id {
        None | Some("") => Ok(None),
        Some(text) => uuid::Uuid::parse_str(text)
            .map(Some)
            .map_err(|_| Error::invalid(format!("{what} must be a UUID"))),
    }
}

/// A stream name: non-empty, no U+0000, at most [`MAX_STREAM_NAME_BYTES`].
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_stream_name(stream_name: &str) -> Result<()> {
    if stream_name.is_empty() {
        return Err(Error::invalid("streamName must be a non-empty string"));
    }
    check_text(stream_name, "streamName", MAX_STREAM_NAME_BYTES)
}

/// A message type: non-empty, no U+0000, at most [`MAX_TYPE_BYTES`].
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_type(message_type: &str) -> Result<()> {
    if message_type.is_empty() {
        return Err(Error::invalid("message.type must be a non-empty string"));
    }
    check_text(message_type, "message.type", MAX_TYPE_BYTES)
}

/// A category name to read (`""` = every message): no U+0000, at most [`MAX_STREAM_NAME_BYTES`].
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_category(category: &str) -> Result<()> {
    check_text(category, "categoryName", MAX_STREAM_NAME_BYTES)
}

/// A message to write or import: its type, and its metadata's correlation (the data and metadata
/// are JSON objects checked by [`check_json`] when they were made).
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_message(message_type: &str, metadata: Option<&str>) -> Result<()> {
    check_type(message_type)?;
    match metadata {
        Some(m) => check_correlation(m),
        None => Ok(()),
    }
}

/// An imported message's positions: from 0 (stream) and 1 (global), at most
/// [`MAX_IMPORTED_POSITION`].
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_imported_positions(position: i64, global_position: i64) -> Result<()> {
    if position < 0 || global_position < 1 {
        return Err(Error::invalid(
            "positions must be >= 0 and global positions >= 1",
        ));
    }
    if position > MAX_IMPORTED_POSITION || global_position > MAX_IMPORTED_POSITION {
        return Err(Error::invalid(format!(
            "positions and global positions must be at most {MAX_IMPORTED_POSITION} (2^52)"
        )));
    }
    Ok(())
}

/// The error of a write that would take a position past [`MAX_GLOBAL_POSITION`].
pub(crate) fn positions_exhausted() -> Error {
    Error::Backend {
        message: format!(
            "the namespace has no global positions left (the largest is {MAX_GLOBAL_POSITION})"
        ),
        retryable: false,
        source: None,
    }
}

/// JSON text of message data or metadata (already parsed as JSON): no `\u0000` escape, no lone
/// UTF-16 surrogate escape, numbers within PostgreSQL's `numeric` range (at most 10^131071, at
/// most 16383 digits after the decimal point), and at most [`MAX_JSON_DEPTH`] levels of nesting.
///
/// # Errors
/// `INVALID_REQUEST` naming `what`.
pub fn check_json(text: &str, what: &str) -> Result<()> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = check_string(b, i + 1, what)?,
            b'-' | b'0'..=b'9' => i = check_number(b, i, what)?,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(Error::invalid(format!(
                        "{what} is nested deeper than {MAX_JSON_DEPTH} levels"
                    )));
                }
                i += 1;
            }
            b']' | b'}' => {
                depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Checks the escapes of a JSON string whose content starts at `i`; returns the index after its
/// closing quote.
fn check_string(b: &[u8], mut i: usize, what: &str) -> Result<usize> {
    // A high surrogate escape waiting for its low half.
    let mut high = false;
    while i < b.len() {
        match b[i] {
            b'"' => break,
            b'\\' if b.get(i + 1) == Some(&b'u') => {
                let unit = std::str::from_utf8(b.get(i + 2..i + 6).unwrap_or_default())
                    .ok()
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    .unwrap_or(0xFFFF);
                if unit == 0 {
                    return Err(Error::invalid(format!(
                        "{what} must not contain the character U+0000"
                    )));
                }
                let is_low = (0xDC00..=0xDFFF).contains(&unit);
                if is_low != high {
                    return Err(lone_surrogate(what));
                }
                high = (0xD800..=0xDBFF).contains(&unit);
                i += 6;
                continue;
            }
            b'\\' => i += 2,
            _ => i += 1,
        }
        if high {
            return Err(lone_surrogate(what));
        }
    }
    if high {
        return Err(lone_surrogate(what));
    }
    Ok(i + 1)
}

fn lone_surrogate(what: &str) -> Error {
    Error::invalid(format!(
        "{what} must not contain a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair)"
    ))
}

/// Checks the range of a JSON number starting at `i`; returns the index after it.
fn check_number(b: &[u8], mut i: usize, what: &str) -> Result<usize> {
    if b[i] == b'-' {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        start..*i
    };
    let int = digits(&mut i);
    let significant = b[int.clone()].iter().skip_while(|d| **d == b'0').count() as i64;
    let mut scale = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        scale = digits(&mut i).len() as i64;
    }
    let mut exponent: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = digits(&mut i);
        // Saturates: an exponent of many digits is out of range either way.
        exponent = std::str::from_utf8(&b[e])
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(i64::MAX / 2);
        if negative {
            exponent = -exponent;
        }
    }
    if significant + exponent > MAX_NUMBER_WEIGHT + 1 || scale - exponent > MAX_NUMBER_SCALE {
        return Err(Error::invalid(format!(
            "{what} has a number out of range (at most 10^{MAX_NUMBER_WEIGHT} and \
             {MAX_NUMBER_SCALE} digits after the decimal point)"
        )));
    }
    Ok(i)
}

/// Metadata's `correlationStreamName`, which category reads filter on: absent, null, or a string
/// of at most [`MAX_STREAM_NAME_BYTES`] without U+0000.
///
/// # Errors
/// `INVALID_REQUEST`.
pub fn check_correlation(metadata: &str) -> Result<()> {
    correlation_stream(metadata).map(|_| ())
}

/// Metadata's `correlationStreamName`, checked by [`check_correlation`]'s rule: the one place it
/// is read from metadata text (category reads and SQLite's correlation column use it too).
pub(crate) fn correlation_stream(metadata: &str) -> Result<Option<String>> {
    #[derive(serde::Deserialize)]
    struct Correlation<'a> {
        #[serde(rename = "correlationStreamName", borrow, default)]
        stream: Option<&'a serde_json::value::RawValue>,
    }
    const WHAT: &str = "metadata.correlationStreamName";
    if !metadata.contains("correlationStreamName") {
        return Ok(None);
    }
    let parsed: Correlation = serde_json::from_str(metadata)
        .map_err(|e| Error::invalid(format!("message.metadata is not valid JSON: {e}")))?;
    let Some(raw) = parsed.stream.filter(|r| r.get() != "null") else {
        return Ok(None);
    };
    let name: String = serde_json::from_str(raw.get())
        .map_err(|_| Error::invalid(format!("{WHAT} must be a string")))?;
    check_text(&name, WHAT, MAX_STREAM_NAME_BYTES)?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_numbers() {
        for ok in [
            r#"{"a":"x\\u0000"}"#,
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":1e131071,"b":1e-16383,"c":-0.5E+3}"#,
            r#"{"\"":"\\"}"#,
            r#"{"a":[1,2.25,-3]}"#,
        ] {
            check_json(ok, "message.data").unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            r#"{"a":"\u0000"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800x"}"#,
            r#"{"a":"\ud800\ud800"}"#,
            r#"{"\ud800":1}"#,
            r#"{"a":1e131072}"#,
            r#"{"a":1e-16384}"#,
            r#"{"a":1e99999999999999999999}"#,
        ] {
            assert_eq!(
                check_json(bad, "message.data").map_err(|e| e.code()),
                Err("INVALID_REQUEST"),
                "{bad}"
            );
        }
        let nested = |levels: usize| {
            format!(
                "{{\"a\":{}{}}}",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        assert!(check_json(&nested(MAX_JSON_DEPTH), "message.data").is_ok());
        assert_eq!(
            check_json(&nested(MAX_JSON_DEPTH + 1), "message.data")
                .unwrap_err()
                .to_string(),
            "message.data is nested deeper than 128 levels"
        );
    }
}
