//! `POST /import`: NDJSON records streamed in, one transaction per batch of 1000, progress
//! streamed out as Server-Sent Events (§6). Memory stays flat: one batch at a time.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use messagedb::record::{self, ImportErrorCode};
use messagedb::{Message, Namespace};
use serde::Deserialize;
use serde_json::json;
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
    let fail = |code: ImportErrorCode, message: String, line: usize| {
        event(json!({"error": code.as_str(), "message": message, "line": line}))
    };
    if force && let Err(e) = ns.clear().await {
        let _ = tx
            .send(fail(ImportErrorCode::ImportFailed, e.to_string(), 0))
            .await;
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
            let _ = tx
                .send(fail(ImportErrorCode::InvalidRecord, message, line_no + 1))
                .await;
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
                                ImportErrorCode::ImportFailed,
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
            let _ = tx
                .send(fail(ImportErrorCode::InvalidJson, message, line_no))
                .await;
            return;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match record::parse_line(text, last_gpos) {
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
            let code = ImportErrorCode::of(&e).as_str();
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
