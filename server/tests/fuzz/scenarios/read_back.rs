//! Reading back what was written: every valid write intact, every accepted mutated write at its
//! position, and every valid import exactly (continued at max(gpos)+1 by the next write).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::Run;
use super::import::TIMES;
use crate::json_read::lenient_json;
use crate::requests::{OK, Req, excerpt};
use crate::wire::find;

/// A `stream.get` of a whole stream.
fn read_all(stream: &Value) -> String {
    json!(["stream.get", stream, {"batchSize": -1}]).to_string()
}

impl Run {
    /// Every valid write reads back intact; so does every accepted mutated write's position.
    pub async fn read_back(&mut self) {
        self.read_back_valid().await;
        self.read_back_accepted().await;
    }

    async fn read_back_valid(&mut self) {
        let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, w) in self.valid.iter().enumerate() {
            groups
                .entry((w.token.clone(), w.stream.clone()))
                .or_default()
                .push(i);
        }
        for ((token, stream), indexes) in groups {
            let body = read_all(&json!(stream));
            let label = "stream.get (read-back)";
            let got = self.call(&token, body.clone(), label).await;
            let mut req = Req::rpc(label);
            req.body = body.into_bytes();
            req.tag = "valid".into();
            let Some(Value::Array(got)) = got else {
                self.f
                    .add("valid writes not read back", &req, None, "no array");
                continue;
            };
            let problems = self.compare_valid(&got, &indexes);
            if !problems.is_empty() {
                self.f.add(
                    "valid writes not read back intact",
                    &req,
                    Some(200),
                    format!(
                        "stream {}: {}",
                        excerpt(stream.as_bytes(), 40),
                        excerpt(problems.join("; ").as_bytes(), 600)
                    ),
                );
            }
        }
    }

    /// How the messages read from a stream differ from the valid writes `indexes` to it.
    fn compare_valid(&self, got: &[Value], indexes: &[usize]) -> Vec<String> {
        let by_position: HashMap<i64, &Value> = got
            .iter()
            .filter_map(|m| m[2].as_i64().map(|p| (p, m)))
            .collect();
        let mut problems = Vec::new();
        if got.len() != indexes.len() {
            problems.push(format!("{} messages, {} written", got.len(), indexes.len()));
        }
        let mut gpos = Vec::new();
        for &i in indexes {
            let w = &self.valid[i];
            let Some(m) = by_position.get(&w.position) else {
                problems.push(format!("position {} missing", w.position));
                continue;
            };
            gpos.push(m[3].as_i64().unwrap_or(-1));
            if let Some(id) = &w.id
                && m[0].as_str() != Some(id)
            {
                problems.push(format!("position {}: id {} != {id}", w.position, m[0]));
            }
            if let Some(g) = w.gpos
                && m[3].as_i64() != Some(g)
            {
                problems.push(format!(
                    "position {}: globalPosition {} != {g}",
                    w.position, m[3]
                ));
            }
            if m[1] != json!(w.message_type) || m[4] != w.data || m[5] != w.metadata {
                problems.push(format!(
                    "position {}: got {m}, wrote type {:?} data {} metadata {}",
                    w.position, w.message_type, w.data, w.metadata
                ));
            }
            if m.as_array().map(Vec::len) != Some(7) {
                problems.push(format!("position {}: not a 7-element array", w.position));
            }
        }
        if gpos.windows(2).any(|w| w[0] >= w[1]) {
            problems.push(format!(
                "global positions not increasing with position: {gpos:?}"
            ));
        }
        problems
    }

    async fn read_back_accepted(&mut self) {
        let mut accepted: BTreeMap<(String, String), Vec<(i64, i64)>> = BTreeMap::new();
        for a in &self.accepted {
            accepted
                .entry((a.token.clone(), a.stream_json.clone()))
                .or_default()
                .push((a.position, a.gpos));
        }
        for ((token, stream_json), positions) in accepted {
            let body = format!("[\"stream.get\",{stream_json},{{\"batchSize\":-1}}]");
            let label = "stream.get (read-back of accepted mutated writes)";
            let raw = self.call_raw(&token, body.clone(), label, OK).await;
            let mut req = Req::rpc(label);
            req.body = body.into_bytes();
            let Some(raw) = raw else {
                continue; // reported by the call
            };
            // Data nested deeper than serde_json reads: find `,position,globalPosition,` instead.
            let got = match lenient_json(&raw) {
                Ok(Value::Array(got)) => Some(got),
                _ => None,
            };
            for (position, gpos) in positions {
                let found = match &got {
                    Some(got) => got
                        .iter()
                        .any(|m| m[2].as_i64() == Some(position) && m[3].as_i64() == Some(gpos)),
                    None => find(&raw, format!(",{position},{gpos},").as_bytes()).is_some(),
                };
                if !found {
                    self.f.add(
                        "accepted write not read back",
                        &req,
                        Some(200),
                        format!("position {position} globalPosition {gpos} missing"),
                    );
                }
            }
        }
    }

    /// After a valid import (namespace cleared first): the records read back exactly, and the
    /// next write continues at max(gpos)+1 (§6).
    pub(super) async fn verify_import(&mut self, importer: &str, records: &[Value], import: &Req) {
        let mut streams: Vec<&str> = records
            .iter()
            .filter_map(|r| r["stream"].as_str())
            .collect();
        streams.sort_unstable();
        streams.dedup();
        for stream in streams {
            let body = read_all(&json!(stream));
            let Some(got) = self
                .call(importer, body, "stream.get (import read-back)")
                .await
            else {
                continue;
            };
            let expected: Vec<&Value> = records.iter().filter(|r| r["stream"] == stream).collect();
            let got = got.as_array().cloned().unwrap_or_default();
            let mut problems = Vec::new();
            if got.len() != expected.len() {
                problems.push(format!(
                    "{} messages, expected {}",
                    got.len(),
                    expected.len()
                ));
            }
            for (m, r) in got.iter().zip(&expected) {
                let time = r["time"].as_str().unwrap_or_default();
                let time_back = TIMES
                    .iter()
                    .find(|(sent, _)| *sent == time)
                    .map_or(time, |(_, back)| back);
                let want = json!([
                    r["id"], r["type"], r["pos"], r["gpos"], r["data"], r["meta"], time_back
                ]);
                if *m != want {
                    problems.push(format!("got {m}, expected {want}"));
                }
            }
            if !problems.is_empty() {
                self.f.add(
                    "imported records do not read back exactly",
                    import,
                    Some(200),
                    excerpt(problems.join("; ").as_bytes(), 400),
                );
            }
        }
        self.write_after_import(importer, records, import).await;
    }

    /// The next write after an import continues at max(gpos)+1.
    async fn write_after_import(&mut self, importer: &str, records: &[Value], import: &Req) {
        let max = records
            .iter()
            .filter_map(|r| r["gpos"].as_i64())
            .max()
            .unwrap_or(0);
        let body =
            json!(["stream.write", "impw-1", {"type": "AfterImport", "data": {}}]).to_string();
        // Past 2^53 − 1 a write may be refused (design.md's limit); it must still not be a 5xx.
        let room = max < (1 << 53) - 1;
        let label = "stream.write (after an import)";
        let expected = if room { OK } else { None };
        let raw = self.call_raw(importer, body, label, expected).await;
        let Some(result) = raw.and_then(|raw| lenient_json(&raw).ok()) else {
            return; // reported by the call when it had to succeed
        };
        if room
            && (result["globalPosition"].as_i64() != Some(max + 1)
                || result["position"] != json!(0))
        {
            self.f.add(
                "write after an import does not continue at max(gpos)+1",
                import,
                Some(200),
                format!("max imported gpos {max}, write answered {result}"),
            );
        }
    }
}
