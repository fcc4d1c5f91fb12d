//! Reading the server's JSON: a syntax check without serde_json's depth limit, and a parser
//! that lets lone surrogates through.

use serde_json::Value;

/// Checks JSON syntax (RFC 8259) without a depth limit: accepted data may nest deeper than
/// serde_json's default limit of 128, and a server answer holding it is still JSON.
pub fn json_syntax(bytes: &[u8]) -> Result<(), String> {
    if std::str::from_utf8(bytes).is_err() {
        return Err("not UTF-8".into());
    }
    // The containers open around the value being read: b'[' or b'{'.
    let mut stack: Vec<u8> = Vec::new();
    let mut i = 0;
    loop {
        // A value.
        i = skip_ws(bytes, i);
        match bytes.get(i) {
            None => return err(i, "a value expected"),
            Some(b'[') | Some(b'{') => {
                let open = bytes[i];
                stack.push(open);
                i = skip_ws(bytes, i + 1);
                if bytes.get(i) == Some(&closing(open)) {
                    stack.pop();
                    i += 1;
                } else {
                    if open == b'{' {
                        i = json_key(bytes, i)?;
                    }
                    continue;
                }
            }
            Some(b'"') => i = json_string(bytes, i)?,
            Some(b't') if bytes[i..].starts_with(b"true") => i += 4,
            Some(b'f') if bytes[i..].starts_with(b"false") => i += 5,
            Some(b'n') if bytes[i..].starts_with(b"null") => i += 4,
            Some(b'-' | b'0'..=b'9') => {
                let start = i;
                while i < bytes.len() && b"+-.eE0123456789".contains(&bytes[i]) {
                    i += 1;
                }
                let text = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                if serde_json::from_str::<serde_json::Number>(text).is_err()
                    && text.parse::<f64>().is_err()
                {
                    return err(start, "a bad number");
                }
            }
            Some(_) => return err(i, "an unexpected character"),
        }
        // After a value: close containers, or a comma and the next value.
        loop {
            i = skip_ws(bytes, i);
            let Some(&open) = stack.last() else {
                return if i == bytes.len() {
                    Ok(())
                } else {
                    err(i, "trailing characters")
                };
            };
            match bytes.get(i) {
                Some(&c) if c == closing(open) => {
                    stack.pop();
                    i += 1;
                }
                Some(b',') => {
                    i += 1;
                    if open == b'{' {
                        i = json_key(bytes, skip_ws(bytes, i))?;
                    }
                    break;
                }
                _ => return err(i, "',' or a closing bracket expected"),
            }
        }
    }
}

fn err(i: usize, what: &str) -> Result<(), String> {
    Err(format!("{what} at byte {i}"))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && b" \t\r\n".contains(&bytes[i]) {
        i += 1;
    }
    i
}

fn closing(open: u8) -> u8 {
    if open == b'[' { b']' } else { b'}' }
}

/// Skips an object key and its `:` at `i`; returns the index after the colon.
fn json_key(bytes: &[u8], i: usize) -> Result<usize, String> {
    if bytes.get(i) != Some(&b'"') {
        return Err(format!("a key expected at byte {i}"));
    }
    let i = skip_ws(bytes, json_string(bytes, i)?);
    if bytes.get(i) != Some(&b':') {
        return Err(format!("':' expected at byte {i}"));
    }
    Ok(i + 1)
}

/// Skips the JSON string at `i` (its opening quote); returns the index after it.
fn json_string(bytes: &[u8], mut i: usize) -> Result<usize, String> {
    i += 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'"' => return Ok(i + 1),
            b'\\' => match bytes.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u')
                    if bytes.len() >= i + 6
                        && bytes[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit) =>
                {
                    i += 6
                }
                _ => return Err(format!("a bad escape at byte {i}")),
            },
            0..=0x1f => return Err(format!("a raw control character at byte {i}")),
            _ => i += 1,
        }
    }
    Err("an unterminated string".into())
}

/// Parses JSON that may carry lone-surrogate escapes (which the spec lets round-trip, and which
/// serde_json refuses): they are replaced by U+FFFD first.
pub fn lenient_json(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(first) => {
            let mut fixed = String::with_capacity(text.len());
            let mut rest = text;
            while let Some(i) = rest.find("\\u") {
                fixed.push_str(&rest[..i]);
                let hex = rest.get(i + 2..i + 6).unwrap_or("");
                let surrogate = u16::from_str_radix(hex, 16)
                    .is_ok_and(|u| (0xd800..=0xdfff).contains(&u))
                    && hex.len() == 4;
                if surrogate {
                    fixed.push_str("\\ufffd");
                    rest = &rest[i + 6..];
                } else {
                    fixed.push_str("\\u");
                    rest = &rest[i + 2..];
                }
            }
            fixed.push_str(rest);
            serde_json::from_str(&fixed).map_err(|_| first.to_string())
        }
    }
}
