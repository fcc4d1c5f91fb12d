//! `POST /import`: NDJSON records streamed in, one transaction per batch of 1000, progress
//! streamed out as Server-Sent Events (§6). Memory stays flat: one batch at a time.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use messagedb::record::Record;
use messagedb::{ErrorCode, Message, Namespace};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::state::{AppState, QueryOf};

/// Records per transaction.
const BATCH: usize = 1000;

/// The query of `/import`.
#[derive(Debug, Default, Deserialize)]
pub struct ImportQuery {
    token: Option<String>,
    force: Option<String>,
}

fn to_message(line: &str, after: i64) -> Result<Message, (&'static str, String)> {
    let value: &RawValue =
        serde_json::from_str(line).map_err(|e| ("INVALID_JSON", format!("invalid JSON: {e}")))?;
    let record: Record = serde_json::from_str(value.get())
        .map_err(|e| ("INVALID_RECORD", format!("invalid record: {e}")))?;
    if record.gpos <= after {
        return Err((
            "INVALID_RECORD",
            format!("gpos {} does not increase (after {after})", record.gpos),
        ));
    }
    record
        .into_message()
        .map_err(|e| ("INVALID_RECORD", e.to_string()))
}

fn event(value: serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// Handles `POST /import`.
pub async fn import(
    State(state): State<AppState>,
    QueryOf(query): QueryOf<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match state
        .auth
        .authenticate(&headers, query.token.as_deref())
        .await
    {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ns = state.store.namespace(&caller.namespace);
    let force = query.force.as_deref() == Some("true");
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(run(ns, force, body, state.max_body, tx));
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let mut response = Response::new(Body::from_stream(events));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Reads the body line by line, imports batch by batch, reports progress. A record (line) may be
/// at most `max_record` bytes: what is held in memory is one batch and one partial line.
async fn run(ns: Namespace, force: bool, body: Body, max_record: usize, tx: mpsc::Sender<Bytes>) {
    let started = Instant::now();
    let fail = |code: &str, message: String, line: usize| {
        event(json!({"error": code, "message": message, "line": line}))
    };
    if force && let Err(e) = ns.clear().await {
        let _ = tx.send(fail("IMPORT_FAILED", e.to_string(), 0)).await;
        return;
    }
    let mut chunks = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut batch: Vec<Message> = Vec::with_capacity(BATCH);
    // The line of each record of the batch, to name the line of a failing record.
    let mut lines: Vec<usize> = Vec::with_capacity(BATCH);
    let mut last_gpos = 0;
    let mut line_no = 0usize;
    let mut imported = 0u64;
    let mut done_reading = false;
    // How much of `pending` holds no newline (searched already).
    let mut searched = 0;
    loop {
        // Take every complete line in hand; read more when there is none.
        let newline = pending[searched..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| i + searched);
        searched = if newline.is_some() { 0 } else { pending.len() };
        if newline.unwrap_or(pending.len()) > max_record {
            let message = format!("record exceeds {max_record} bytes (the --max-body limit)");
            let _ = tx.send(fail("INVALID_RECORD", message, line_no + 1)).await;
            return;
        }
        let line = match (newline, done_reading) {
            (Some(i), _) => {
                let rest = pending.split_off(i + 1);
                std::mem::replace(&mut pending, rest)
            }
            (None, false) => {
                match chunks.next().await {
                    Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
                    Some(Err(e)) => {
                        let _ = tx
                            .send(fail(
                                "IMPORT_FAILED",
                                format!("reading the body: {e}"),
                                line_no,
                            ))
                            .await;
                        return;
                    }
                    None => done_reading = true,
                }
                continue;
            }
            (None, true) if !pending.is_empty() => {
                searched = 0;
                std::mem::take(&mut pending)
            }
            (None, true) => break,
        };
        line_no += 1;
        let Ok(text) = std::str::from_utf8(&line) else {
            let message = "record is not valid UTF-8".to_string();
            let _ = tx.send(fail("INVALID_JSON", message, line_no)).await;
            return;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match to_message(text, last_gpos) {
            Ok(m) => {
                last_gpos = m.global_position;
                lines.push(line_no);
                batch.push(m);
            }
            Err((code, message)) => {
                let _ = tx.send(fail(code, message, line_no)).await;
                return;
            }
        }
        if batch.len() == BATCH && !commit(&ns, &mut batch, &mut lines, &mut imported, &tx).await {
            return;
        }
    }
    if !batch.is_empty() && !commit(&ns, &mut batch, &mut lines, &mut imported, &tx).await {
        return;
    }
    let elapsed = format!("{:.1}s", started.elapsed().as_secs_f64());
    let _ = tx
        .send(event(
            json!({"done": true, "imported": imported, "elapsed": elapsed}),
        ))
        .await;
}

/// Imports one batch; reports progress or the failure (and returns false).
async fn commit(
    ns: &Namespace,
    batch: &mut Vec<Message>,
    lines: &mut Vec<usize>,
    imported: &mut u64,
    tx: &mpsc::Sender<Bytes>,
) -> bool {
    let records = std::mem::take(batch);
    let record_lines = std::mem::take(lines);
    let ids: Vec<uuid::Uuid> = records.iter().map(|m| m.id).collect();
    // Which record failed: by index, or by id for a duplicate.
    let failing = |e: &messagedb::Error| -> usize {
        let index = match e {
            messagedb::Error::PositionExists { record, .. } => record.unwrap_or(0),
            messagedb::Error::DuplicateMessageId(id) => {
                ids.iter().position(|i| i.to_string() == *id).unwrap_or(0)
            }
            _ => 0,
        };
        record_lines.get(index).copied().unwrap_or(0)
    };
    match ns.import(records).await {
        Ok(r) => {
            *imported += r.imported;
            let _ = tx
                .send(event(
                    json!({"imported": *imported, "gpos": r.last_global_position}),
                ))
                .await;
            true
        }
        Err(e) => {
            // §6's import codes: a taken position or id, a record the rules refuse, or anything
            // else (the database failed, the namespace is gone, the store closed).
            let code = match e.kind() {
                ErrorCode::PositionExists | ErrorCode::DuplicateMessageId => "POSITION_EXISTS",
                ErrorCode::InvalidRequest => "INVALID_RECORD",
                _ => "IMPORT_FAILED",
            };
            let line = failing(&e);
            let _ = tx
                .send(event(
                    json!({"error": code, "message": e.to_string(), "line": line}),
                ))
                .await;
            false
        }
    }
}
