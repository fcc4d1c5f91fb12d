//! §6: what an `/import` event stream must say — `data: {…}` events, progress, then `done` or
//! one error with a code of the table — and what each kind of import must end with.

use serde_json::json;

use crate::findings::Findings;
use crate::json_read::lenient_json;
use crate::requests::{ImportKind, Req, excerpt};
use crate::wire::Resp;

/// The error codes of `/import` events (§6).
const IMPORT_CODES: [&str; 4] = [
    "INVALID_JSON",
    "INVALID_RECORD",
    "POSITION_EXISTS",
    "IMPORT_FAILED",
];

/// What an import's event stream said.
#[derive(Default)]
pub struct ImportOutcome {
    pub done: Option<u64>,
    pub error: Option<String>,
}

/// Checks an import's events and, for a complete request, their end against `req.import`.
pub fn check_import(req: &Req, resp: &Resp, f: &mut Findings) -> ImportOutcome {
    let status = Some(resp.status);
    if !resp.content_type().starts_with("text/event-stream") {
        f.add(
            "/import answer is not text/event-stream",
            req,
            status,
            resp.content_type().to_string(),
        );
    }
    let text = String::from_utf8_lossy(&resp.body).to_string();
    let (out, ended) = read_events(req, status, &text, f);
    if req.incomplete() {
        return out;
    }
    if !ended {
        f.add(
            "/import stream ended without done or error",
            req,
            status,
            excerpt(text.as_bytes(), 200),
        );
    }
    let shown = excerpt(text.as_bytes(), 300);
    let problem = match &req.import {
        ImportKind::Valid { records } if out.done != Some(*records as u64) => Some((
            "valid import not done with every record imported",
            format!("{records} records: {shown}"),
        )),
        ImportKind::Huge { records }
            if out.done != Some(*records as u64)
                && out.error.as_deref() != Some("INVALID_RECORD") =>
        {
            Some((
                "import with a huge gpos neither done nor INVALID_RECORD",
                format!("{records} records: {shown}"),
            ))
        }
        ImportKind::Malformed => match out.error.as_deref() {
            Some("INVALID_JSON" | "INVALID_RECORD") => None,
            Some("IMPORT_FAILED") => None, // reported with the event
            _ if out.done.is_some() => Some(("malformed import record accepted", shown)),
            other => Some((
                "malformed import record not reported as INVALID_JSON/INVALID_RECORD",
                format!("{other:?}: {shown}"),
            )),
        },
        _ => None,
    };
    if let Some((kind, detail)) = problem {
        f.add(kind, req, status, detail);
    }
    out
}

/// Reads the events; the outcome, and whether a `done` or an error ended the stream.
fn read_events(
    req: &Req,
    status: Option<u16>,
    text: &str,
    f: &mut Findings,
) -> (ImportOutcome, bool) {
    let mut out = ImportOutcome::default();
    let mut ended = false;
    for event in text.split("\n\n").filter(|e| !e.trim().is_empty()) {
        let shown = excerpt(event.as_bytes(), 200);
        if ended {
            f.add("/import event after done/error", req, status, shown.clone());
        }
        let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
            f.add("/import event without data", req, status, shown);
            continue;
        };
        let Ok(v) = lenient_json(data.as_bytes()) else {
            let shown = excerpt(data.as_bytes(), 200);
            f.add("/import event data is not JSON", req, status, shown);
            continue;
        };
        if let Some(code) = v.get("error") {
            ended = true;
            let code = code.as_str().unwrap_or("(not a string)").to_string();
            *f.import_codes.entry(code.clone()).or_default() += 1;
            let mut problems = Vec::new();
            if !IMPORT_CODES.contains(&code.as_str()) {
                problems.push("/import error code not in §6");
            }
            if v["message"].as_str().is_none_or(str::is_empty) {
                problems.push("/import error without a message");
            }
            if code == "IMPORT_FAILED" && !req.incomplete() {
                problems.push(
                    "/import IMPORT_FAILED (malformed or odd input must be INVALID_JSON/INVALID_RECORD)",
                );
            }
            for kind in problems {
                f.add(kind, req, status, data);
            }
            out.error = Some(code);
        } else if v.get("done") == Some(&json!(true)) {
            ended = true;
            out.done = v["imported"].as_u64();
        } else if v.get("imported").is_none() {
            // Not progress (`imported`, `gpos`) either.
            f.add("/import event of unknown shape", req, status, data);
        }
    }
    (out, ended)
}
