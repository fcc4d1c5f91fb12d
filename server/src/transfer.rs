//! `messagedb export` and `messagedb import`: NDJSON to and from a running server, with a progress
//! bar on a terminal and plain lines otherwise.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::value::RawValue;

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

/// One NDJSON record.
#[derive(Serialize)]
struct Record<'a> {
    id: &'a str,
    stream: &'a str,
    #[serde(rename = "type")]
    message_type: &'a str,
    pos: i64,
    gpos: i64,
    data: &'a RawValue,
    meta: &'a RawValue,
    time: &'a str,
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
/// A message for people (HTTP or I/O failure).
pub fn export(args: &ExportArgs) -> Result<u64, String> {
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
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
            .map_err(|e| format!("category.get failed: {e}"))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| format!("reading the response: {e}"))?;
        let page: Vec<Vec<&RawValue>> =
            serde_json::from_str(&text).map_err(|e| format!("unexpected response: {e}"))?;
        let Some(last) = page.last() else { break };
        position =
            serde_json::from_str::<i64>(last.get(4).map_or("0", |v| v.get())).unwrap_or(0) + 1;
        for m in &page {
            if m.len() != 8 {
                return Err("unexpected message shape in category.get".into());
            }
            let field = |i: usize| serde_json::from_str::<String>(m[i].get()).unwrap_or_default();
            let (id, stream, message_type, time) = (field(0), field(1), field(2), field(7));
            if !args.categories.is_empty()
                && !args
                    .categories
                    .iter()
                    .any(|c| c == messagedb::category(&stream))
            {
                continue;
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(&time) {
                let t = t.to_utc();
                if args.since.is_some_and(|s| t < s) || args.until.is_some_and(|u| t >= u) {
                    continue;
                }
            }
            let record = Record {
                id: &id,
                stream: &stream,
                message_type: &message_type,
                pos: serde_json::from_str(m[3].get()).unwrap_or(0),
                gpos: serde_json::from_str(m[4].get()).unwrap_or(0),
                data: m[5],
                meta: m[6],
                time: &time,
            };
            serde_json::to_writer(&mut out, &record).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
            written += 1;
        }
        report(&bar, "exported", written);
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    if let Some(b) = bar {
        b.finish_with_message(format!("exported {written} messages"));
    } else {
        eprintln!("exported {written} messages");
    }
    Ok(written)
}

/// Streams NDJSON to `/import` and follows its progress events. Returns how many were imported.
///
/// # Errors
/// The server's error event (code, message, line), or an HTTP/I/O failure.
pub fn import(args: &ImportArgs) -> Result<u64, String> {
    let input: Box<dyn Read> = match &args.input {
        Some(p) => Box::new(std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?),
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
        .map_err(|e| format!("import failed: {e}"))?;
    let reader = BufReader::new(response.body_mut().as_reader());
    for line in reader.lines() {
        let line = line.map_err(|e| format!("reading progress: {e}"))?;
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let event: serde_json::Value = serde_json::from_str(data).map_err(|e| e.to_string())?;
        if let Some(code) = event.get("error") {
            return Err(format!(
                "import failed at line {}: {} {}",
                event["line"],
                code.as_str().unwrap_or(""),
                event["message"].as_str().unwrap_or("")
            ));
        }
        if event.get("done").is_some() {
            let n = event["imported"].as_u64().unwrap_or(0);
            match bar {
                Some(b) => b.finish_with_message(format!("imported {n} messages")),
                None => eprintln!("imported {n} messages"),
            }
            return Ok(n);
        }
        report(&bar, "imported", event["imported"].as_u64().unwrap_or(0));
    }
    Err("the server ended the import without a result".into())
}
