//! Namespace tokens: `ns_<base64url(namespace)>_<64 hex>`. Only their SHA-256 is ever stored.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a process may act on what it last read of the namespace registry (that a token is
/// valid, where a namespace's messages are) without reading it again. A namespace delete or token
/// change returns only this long after it committed, so that once it has returned no process
/// sharing the database (several servers on one PostgreSQL, apps on one SQLite directory) accepts
/// the old token or reaches the old namespace (design.md, Guarantee 5). It bounds the cost of
/// authentication to one registry read per token and period.
pub const TRUST: Duration = Duration::from_millis(250);

/// Generates a new token for a namespace: 32 random bytes.
pub fn generate_token(namespace: &str) -> String {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).expect("the operating system's random source failed");
    format!(
        "ns_{}_{}",
        URL_SAFE_NO_PAD.encode(namespace.as_bytes()),
        hex::encode(random)
    )
}

/// Why a token does not parse; its text is the exact message of wire-protocol.md §5 (e.g.
/// "invalid token format: missing 'ns_' prefix"). The server answers it as `AUTH_INVALID_TOKEN`,
/// namespace creation as `INVALID_REQUEST` "Invalid token format: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl From<&str> for ParseError {
    fn from(message: &str) -> Self {
        ParseError(message.into())
    }
}

impl From<String> for ParseError {
    fn from(message: String) -> Self {
        ParseError(message)
    }
}

/// Parses a token and returns the namespace it names.
///
/// # Errors
/// A [`ParseError`] with the exact message of wire-protocol.md §5.
pub fn parse_token(token: &str) -> Result<String, ParseError> {
    let rest = token
        .strip_prefix("ns_")
        .ok_or("invalid token format: missing 'ns_' prefix")?;
    let parts: Vec<&str> = rest.split('_').collect();
    if parts.len() != 2 {
        return Err(format!(
            "invalid token format: expected 2 parts after prefix, got {}",
            parts.len()
        )
        .into());
    }
    let (ns_part, random) = (parts[0], parts[1]);
    if random.len() != 64 {
        return Err(format!(
            "invalid token format: random part must be 64 hex characters, got {}",
            random.len()
        )
        .into());
    }
    if !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("invalid token format: random part is not valid hexadecimal".into());
    }
    let namespace = URL_SAFE_NO_PAD
        .decode(ns_part)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or("invalid token format: namespace part is not valid base64url")?;
    if namespace.is_empty() {
        return Err("invalid token format: namespace is empty".into());
    }
    // A namespace that cannot exist: refused here, before any backend sees it.
    if crate::rules::check_namespace_id(&namespace).is_err() {
        return Err("invalid token format: namespace is not a valid namespace ID".into());
    }
    Ok(namespace)
}

/// The stored form of a token: lowercase hex of its SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` hashes to `stored_hash`, compared in constant time.
pub fn verify_token(token: &str, stored_hash: &str) -> bool {
    hash_token(token)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

/// The well-known token of the `default` namespace in test mode.
pub const DEFAULT_TEST_TOKEN: &str =
    "ns_ZGVmYXVsdA_0000000000000000000000000000000000000000000000000000000000000000";
