//! `messagedb export` and `messagedb import`: NDJSON to and from a running server, with a progress
//! bar on a terminal and plain lines otherwise.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use messagedb::record::Record;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Why an export or an import stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// A local file, standard input or output failed.
    #[error("{0}")]
    Io(String),
    /// The request to the server failed (connection, HTTP status).
    #[error("{0}")]
    Http(String),
    /// The server answered something this command does not understand.
    #[error("unexpected answer: {0}")]
    Answer(String),
    /// The server refused an imported record: its error code and message, and the record's line.
    #[error("import failed at line {line}: {code} {message}")]
    Refused {
        /// The error code (`messagedb::ErrorCode::from_wire` reads it).
        code: String,
        /// The server's message.
        message: String,
        /// The 1-based line of the record.
        line: u64,
    },
}

fn io(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> TransferError {
    move |e| TransferError::Io(format!("{context}: {e}"))
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportArgs {
    /// Server URL.
    pub url: String,
    /// Token of the namespace to export.
    pub token: String,
    /// Only these categories (all when empty).
    pub categories: Vec<String>,
    /// Only messages at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only messages before this time.
    pub until: Option<DateTime<Utc>>,
    /// Output file (stdout when `None`).
    pub output: Option<PathBuf>,
    /// Gzip the output.
    pub gzip: bool,
}

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportArgs {
    /// Server URL.
    pub url: String,
    /// Token of the namespace to import into.
    pub token: String,
    /// Input file (stdin when `None`).
    pub input: Option<PathBuf>,
    /// The input is gzipped.
    pub gzip: bool,
    /// Clear the namespace first.
    pub force: bool,
}

/// A message of a `category.get` answer: `[id, streamName, type, position, globalPosition, data,
/// metadata, time]` (wire-protocol.md §3), read strictly: any other shape fails the export.
#[derive(Deserialize)]
struct CategoryRow<'a>(
    uuid::Uuid,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    i64,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] Option<&'a RawValue>,
    #[serde(borrow)] Cow<'a, str>,
);

impl<'a> From<CategoryRow<'a>> for Record<'a> {
    fn from(r: CategoryRow<'a>) -> Self {
        Record {
            id: r.0,
            stream: r.1,
            message_type: r.2,
            pos: r.3,
            gpos: r.4,
            data: r.5,
            meta: r.6,
            time: r.7,
        }
    }
}

fn progress(what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} messages ({per_sec}) {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_string());
    Some(bar)
}

fn report(bar: &Option<ProgressBar>, what: &str, n: u64) {
    match bar {
        Some(b) => b.set_position(n),
        None => eprintln!("{what}: {n} messages"),
    }
}

/// Pages `category.get("")` and writes NDJSON in global order. Returns how many were written.
///
/// # Errors
/// A [`TransferError`]: HTTP, I/O, or an answer this command does not understand.
pub fn export(args: &ExportArgs) -> Result<u64, TransferError> {
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p).map_err(io(p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out: Box<dyn Write> = if args.gzip {
        Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::default(),
        ))
    } else {
        Box::new(std::io::BufWriter::new(out))
    };
    let bar = progress("exporting");
    let rpc = format!("{}/rpc", args.url.trim_end_matches('/'));
    let mut position = 1i64;
    let mut written = 0u64;
    loop {
        let request =
            serde_json::json!(["category.get", "", {"position": position, "batchSize": 1000}]);
        let mut response = ureq::post(&rpc)
            .header("Authorization", &format!("Bearer {}", args.token))
            .header("Content-Type", "application/json")
            .send(request.to_string())
            .map_err(|e| TransferError::Http(format!("category.get failed: {e}")))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| TransferError::Http(format!("reading the response: {e}")))?;
        let page: Vec<CategoryRow> = serde_json::from_str(&text)
            .map_err(|e| TransferError::Answer(format!("category.get: {e}")))?;
        let Some(last) = page.last() else { break };
        position = last.4 + 1;
        for record in page.into_iter().map(Record::from) {
            if !args.categories.is_empty()
                && !args
                    .categories
                    .iter()
                    .any(|c| c == messagedb::category(&record.stream))
            {
                continue;
            }
            let time = DateTime::parse_from_rfc3339(&record.time)
                .map_err(|e| TransferError::Answer(format!("time '{}': {e}", record.time)))?
                .to_utc();
            if args.since.is_some_and(|s| time < s) || args.until.is_some_and(|u| time >= u) {
                continue;
            }
            serde_json::to_writer(&mut out, &record)
                .map_err(|e| TransferError::Io(format!("writing: {e}")))?;
            out.write_all(b"\n").map_err(io("writing"))?;
            written += 1;
        }
        report(&bar, "exported", written);
    }
    out.flush().map_err(io("writing"))?;
    drop(out);
    if let Some(b) = bar {
        b.finish_with_message(format!("exported {written} messages"));
    } else {
        eprintln!("exported {written} messages");
    }
    Ok(written)
}

/// One progress event of `/import` (wire-protocol.md): progress, the end, or a refused record.
#[derive(Deserialize)]
struct Progress {
    #[serde(default)]
    imported: u64,
    #[serde(default)]
    done: bool,
    error: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    line: u64,
}

/// Streams NDJSON to `/import` and follows its progress events. Returns how many were imported.
///
/// # Errors
/// A [`TransferError`]: the server's refusal of a record (code, message, line), or an HTTP,
/// I/O or answer failure.
pub fn import(args: &ImportArgs) -> Result<u64, TransferError> {
    let input: Box<dyn Read> = match &args.input {
        Some(p) => Box::new(std::fs::File::open(p).map_err(io(p.display()))?),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut input: Box<dyn Read> = if args.gzip {
        Box::new(flate2::read::GzDecoder::new(input))
    } else {
        input
    };
    let mut url = format!("{}/import", args.url.trim_end_matches('/'));
    if args.force {
        url.push_str("?force=true");
    }
    let bar = progress("importing");
    let mut response = ureq::post(&url)
        .header("Authorization", &format!("Bearer {}", args.token))
        .header("Content-Type", "application/x-ndjson")
        .send(ureq::SendBody::from_reader(&mut input))
        .map_err(|e| TransferError::Http(format!("import failed: {e}")))?;
    let reader = BufReader::new(response.body_mut().as_reader());
    for line in reader.lines() {
        let line = line.map_err(|e| TransferError::Http(format!("reading progress: {e}")))?;
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let event: Progress = serde_json::from_str(data)
            .map_err(|e| TransferError::Answer(format!("progress event: {e}")))?;
        if let Some(code) = event.error {
            return Err(TransferError::Refused {
                code,
                message: event.message,
                line: event.line,
            });
        }
        if event.done {
            let n = event.imported;
            match bar {
                Some(b) => b.finish_with_message(format!("imported {n} messages")),
                None => eprintln!("imported {n} messages"),
            }
            return Ok(n);
        }
        report(&bar, "imported", event.imported);
    }
    Err(TransferError::Answer(
        "the server ended the import without a result".into(),
    ))
}
