//! `POST /import` (§6): NDJSON that is valid (into the cleared import namespace, then read
//! back), malformed or odd, with odd separators, endings and framing.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Run;
use super::auth::{Auth, present};
use crate::findings::Findings;
use crate::import_check::check_import;
use crate::json_gen::valid_data;
use crate::requests::{Framing, ImportKind, OK, Req, Route};

/// Import times, and how each reads back (UTC, microseconds, zeros trimmed).
pub(super) const TIMES: [(&str, &str); 4] = [
    ("2024-01-15T10:30:00.123456Z", "2024-01-15T10:30:00.123456Z"),
    ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"),
    ("2024-01-15T10:30:00.120Z", "2024-01-15T10:30:00.12Z"),
    ("2024-01-15T12:30:00.5+02:00", "2024-01-15T10:30:00.5Z"),
];

impl Run {
    /// `POST /import`: valid, malformed or odd NDJSON, into the import namespace.
    pub async fn import(&mut self) {
        let mut req = Req::new(Route::Import, "POST", String::new(), "POST /import".into());
        let mut query = Vec::new();
        let importer = self.importer.clone();
        let auth = if self.rng.percent(85) {
            present(&importer, !self.rng.percent(70), &mut query, &mut req);
            Auth::valid(&importer, "importer")
        } else {
            // Around the importer's token only: the admin's and the tenant's namespaces hold the
            // recorded writes, which `force=true` would clear.
            self.odd_auth(&importer, &mut query, &mut req)
        };
        let (streams, records, huge) = self.import_records();
        let (kind, lines, tag) = self.import_lines(&streams, &records, huge);
        let mut tags = vec![tag];
        let valid = matches!(kind, ImportKind::Valid { .. } | ImportKind::Huge { .. });
        let force = if valid { true } else { self.rng.percent(50) };
        if force {
            query.push("force=true".into());
        } else if self.rng.percent(30) {
            query.push(
                self.rng
                    .pick(&["force=false", "force=1", "force=TRUE", "force=%FF"])
                    .into(),
            );
        }
        req.body = self.ndjson(&lines, valid, &mut tags);
        req.framing = match self.rng.below(100) {
            0..=79 => Framing::Exact,
            80..=94 => Framing::Chunked,
            _ if req.body.is_empty() => Framing::Omitted,
            _ => {
                tags.push("Content-Length long, then EOF".into());
                Framing::Long(1 + self.rng.below(50))
            }
        };
        req.header(
            "Content-Type",
            self.rng
                .pick(&["application/x-ndjson", "application/json", "text/plain"]),
        );
        req.set_target("/import", &query);
        let importing = auth.token.is_some();
        if importing {
            req.import = kind.clone();
            req.expect = OK;
        } else {
            req.expect = auth.expect;
            tags.insert(0, auth.tag);
        }
        req.tag = tags.join(" ");
        let Some(resp) = self.send(&req).await else {
            return;
        };
        if !importing || resp.status != 200 || req.incomplete() {
            return;
        }
        // The events were checked with the answer; read them again only for how they ended.
        let outcome = check_import(&req, &resp, &mut Findings::default());
        if let ImportKind::Valid { records: count } | ImportKind::Huge { records: count } = kind
            && count > 0
            && outcome.done == Some(count as u64)
        {
            self.verify_import(&importer, &records, &req).await;
        }
    }

    /// Well-formed records in 1–3 streams, global positions increasing with gaps, the last
    /// sometimes at a huge global position; their streams, and whether it is huge.
    fn import_records(&mut self) -> (Vec<String>, Vec<Value>, bool) {
        let streams: Vec<String> = (0..1 + self.rng.below(3))
            .map(|k| format!("imp{k}-{}", self.rng.below(3)))
            .collect();
        let n = self.rng.pick(&[0usize, 1, 2, 5, 20]);
        let mut gpos = self.rng.below(5) as i64;
        let huge = n > 0 && self.rng.percent(25);
        let mut next_pos: HashMap<String, i64> = HashMap::new();
        let mut records = Vec::new();
        for i in 0..n {
            let stream = self.rng.pick(&streams);
            let pos = next_pos.entry(stream.clone()).or_insert(0);
            let p = *pos;
            *pos += 1;
            gpos += 1 + self.rng.below(3) as i64;
            if huge && i + 1 == n {
                gpos = self.rng.pick(&[
                    9_223_372_036_854_775_806,
                    1 << 52,
                    (1 << 52) + 1,
                    (1 << 53) - 2,
                ]);
            }
            records.push(self.record(&stream, p, gpos));
        }
        (streams, records, huge)
    }

    /// The records' lines, with a malformed or odd line slipped in sometimes; what kind of
    /// import that makes, and its tag.
    fn import_lines(
        &mut self,
        streams: &[String],
        records: &[Value],
        huge: bool,
    ) -> (ImportKind, Vec<Vec<u8>>, String) {
        let mut lines: Vec<Vec<u8>> = records.iter().map(|r| r.to_string().into_bytes()).collect();
        let kind_roll = self.rng.below(100);
        if kind_roll < 45 && huge {
            let last = records
                .last()
                .map_or(0, |r| r["gpos"].as_i64().unwrap_or(0));
            let kind = ImportKind::Huge {
                records: records.len(),
            };
            return (kind, lines, format!("valid, last gpos {last}"));
        }
        if kind_roll < 45 {
            let kind = ImportKind::Valid {
                records: records.len(),
            };
            return (kind, lines, "valid".to_string());
        }
        let (kind, (line, tag)) = if kind_roll < 85 {
            (ImportKind::Malformed, self.malformed_line(&streams[0]))
        } else {
            (ImportKind::Odd, self.odd_line(&streams[0], records))
        };
        let at = self.rng.below(lines.len() + 1);
        lines.insert(at, line);
        (kind, lines, tag)
    }

    /// The NDJSON body: LF (or, for an invalid import, sometimes CRLF) between lines, mostly
    /// after the last one too, sometimes blank lines at the end.
    fn ndjson(&mut self, lines: &[Vec<u8>], valid: bool, tags: &mut Vec<String>) -> Vec<u8> {
        let separator: &[u8] = if !valid && self.rng.percent(20) {
            tags.push("CRLF".into());
            b"\r\n"
        } else {
            b"\n"
        };
        let mut body = lines.join(separator);
        if !body.is_empty() && self.rng.percent(70) {
            body.extend_from_slice(separator);
        } else if !body.is_empty() {
            tags.push("last line without newline".into());
        }
        if valid && self.rng.percent(10) {
            body.extend_from_slice(b"\n\n");
            tags.push("blank lines".into());
        }
        body
    }

    /// One NDJSON import record.
    pub(super) fn record(&mut self, stream: &str, pos: i64, gpos: i64) -> Value {
        let (time, _) = self.rng.pick(&TIMES);
        let mut r = json!({
            "id": self.rng.uuid(),
            "stream": stream,
            "type": self.rng.pick(&["Imported", "Ünï"]),
            "pos": pos,
            "gpos": gpos,
            "data": valid_data(&mut self.rng, 0),
            "meta": Value::Null,
            "time": time,
        });
        if self.rng.percent(40) {
            r["meta"] = json!({"correlationStreamName": "x-1"});
        }
        r
    }
}
