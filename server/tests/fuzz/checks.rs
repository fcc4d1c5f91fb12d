//! The rules every answer is held to (see main.rs): complete, below 500, errors in the shape
//! and with the codes of §3 (or §4's plain text), the expected answer, and per route the shape
//! of a success.

use serde_json::{Value, json};

use crate::findings::Findings;
use crate::import_check::check_import;
use crate::json_read::{json_syntax, lenient_json};
use crate::requests::{Expect, Req, Route, excerpt};
use crate::wire::Resp;

/// The error codes of §2.1 and §3 (BACKEND_ERROR is a 500, which is a violation by itself).
const KNOWN_CODES: [&str; 11] = [
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "NOT_FOUND",
    "AUTH_REQUIRED",
    "AUTH_INVALID_TOKEN",
    "AUTH_UNAUTHORIZED",
    "NAMESPACE_NOT_FOUND",
    "NAMESPACE_EXISTS",
    "STREAM_VERSION_CONFLICT",
    "DUPLICATE_MESSAGE_ID",
    "POSITION_EXISTS",
];

/// §4: the plain-text 400 answers of `/subscribe` parameter errors.
const SSE_MESSAGES: [&str; 7] = [
    "Either 'stream', 'category', or 'all=true' parameter required",
    "Cannot combine 'all' with 'stream' or 'category'",
    "Cannot specify both 'stream' and 'category'",
    "Invalid position parameter",
    "Invalid consumer parameter",
    "Invalid size parameter",
    "Invalid consumer group: member must be < size",
];

/// The shape of an error body: `{"error":{"code":C,"message":M,...}}`, C known, M non-empty.
fn error_shape(body: &[u8]) -> Result<String, String> {
    let v = lenient_json(body).map_err(|e| format!("not JSON ({e})"))?;
    let error = v
        .get("error")
        .and_then(Value::as_object)
        .ok_or("no \"error\" object")?;
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .ok_or("error.code is not a string")?;
    if !KNOWN_CODES.contains(&code) {
        return Err(format!("unknown error code {code:?}"));
    }
    match error.get("message").and_then(Value::as_str) {
        Some(m) if !m.trim().is_empty() => Ok(code.to_string()),
        _ => Err("error.message is not a non-empty string".into()),
    }
}

/// Checks one response against the rules; returns it when there is one.
pub fn check(req: &Req, outcome: Result<Resp, String>, f: &mut Findings) -> Option<Resp> {
    f.requests += 1;
    let resp = match outcome {
        // The request itself was incomplete: the server may close without an answer.
        Err(_) if req.incomplete() => return None,
        Err(e) => {
            f.add("no complete response", req, None, e);
            return None;
        }
        Ok(r) => r,
    };
    f.count(req, resp.status);
    let status = Some(resp.status);
    let answer = format!("{}: {}", resp.content_type(), excerpt(&resp.body, 200));
    if resp.status >= 500 {
        f.add("5xx", req, status, answer.clone());
    }
    let success = (200..300).contains(&resp.status);
    let error_code = if success {
        None
    } else {
        check_error(req, &resp, f)
    };
    if req.incomplete() {
        // The client ended the body early (EOF before Content-Length): any 4xx is fair, but
        // §3 keeps 413 for bodies over the limit.
        if resp.status == 413 {
            f.add(
                "incomplete body (EOF before Content-Length) answered 413 \"exceeds the limit\"",
                req,
                status,
                answer,
            );
        }
    } else if let Some(e) = req.expect
        && !matches(e, req, resp.status, error_code.as_deref())
    {
        f.add(
            &format!("expected {} {}", e.status, e.code.unwrap_or("(any code)")),
            req,
            status,
            answer,
        );
    }
    if success && req.method != "HEAD" {
        check_success(req, &resp, f);
    }
    Some(resp)
}

/// Whether an answer is the expected one.
fn matches(e: Expect, req: &Req, status: u16, code: Option<&str>) -> bool {
    let code_ok = match (e.code, code) {
        (None, _) => true,
        (Some(want), Some(got)) => want == got,
        // HEAD answers have no body to read the code from.
        (Some(_), None) => req.method == "HEAD",
    };
    status == e.status && code_ok
}

/// An error answer: JSON `{error:{code,message}}`, or §4's plain text on `/subscribe`; its code.
fn check_error(req: &Req, resp: &Resp, f: &mut Findings) -> Option<String> {
    let status = Some(resp.status);
    let body_text = excerpt(&resp.body, 200);
    let ct = resp.content_type();
    if req.route == Route::Subscribe && resp.status == 400 && ct.starts_with("text/plain") {
        // §4: `/subscribe` parameter errors are the one 400 answered in plain text.
        let text = String::from_utf8_lossy(&resp.body);
        if !SSE_MESSAGES.contains(&text.trim()) {
            f.add(
                "/subscribe 400 text is not one of §4's messages",
                req,
                status,
                body_text,
            );
        }
        return None;
    }
    let mut problems = Vec::new();
    if !ct.starts_with("application/json") {
        problems.push(format!("Content-Type {ct:?}"));
    }
    let code = if req.method == "HEAD" {
        None
    } else {
        error_shape(&resp.body)
            .map_err(|e| problems.push(format!("body {e}")))
            .ok()
    };
    if !problems.is_empty() {
        let kind = if problems.iter().any(|p| p.starts_with("Content-Type")) {
            "error response is not JSON"
        } else {
            "error body is not {error:{code,message}}"
        };
        f.add(
            kind,
            req,
            status,
            format!("{}; body {body_text:?}", problems.join("; ")),
        );
    }
    code
}

/// A 2xx answer with a body: the shape its route promises.
fn check_success(req: &Req, resp: &Resp, f: &mut Findings) {
    let status = Some(resp.status);
    let body_text = excerpt(&resp.body, 200);
    let ct = resp.content_type();
    match req.route {
        Route::Rpc => {
            if !ct.starts_with("application/json") {
                f.add("2xx RPC answer is not application/json", req, status, ct);
            }
            if let Err(e) = json_syntax(&resp.body) {
                f.add(
                    "2xx RPC answer is not JSON",
                    req,
                    status,
                    format!("{e}: {body_text}"),
                );
            }
        }
        Route::Subscribe => {
            let mut problems = Vec::new();
            if !ct.starts_with("text/event-stream") {
                problems.push(format!("Content-Type {ct:?}"));
            }
            if !resp.ready {
                problems.push("no `: ready`".to_string());
            }
            if resp.header("cache-control") != Some("no-cache") {
                problems.push("Cache-Control is not no-cache".into());
            }
            if resp.header("access-control-allow-origin") != Some("*") {
                problems.push("no Access-Control-Allow-Origin: *".into());
            }
            if !problems.is_empty() {
                f.add(
                    "bad /subscribe stream",
                    req,
                    status,
                    format!("{}; {body_text}", problems.join("; ")),
                );
            }
        }
        Route::Import => {
            check_import(req, resp, f);
        }
        Route::Health => {
            if lenient_json(&resp.body).ok() != Some(json!({"status": "ok"})) {
                f.add("bad /health answer", req, status, body_text);
            }
        }
        Route::Version => {
            let v = lenient_json(&resp.body).ok();
            if v.as_ref().and_then(|v| v["version"].as_str()).is_none() {
                f.add("bad /version answer", req, status, body_text);
            }
        }
        Route::Metrics => {
            if !ct.starts_with("text/plain") {
                f.add("/metrics is not text/plain", req, status, ct);
            }
        }
        Route::Unknown => {}
    }
}
