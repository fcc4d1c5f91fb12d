//! Valid `stream.write` and `stream.writeBatch` calls, interleaved with the fuzz: each must land
//! at the next position of its stream, and is recorded to be read back at the end.

use serde_json::{Value, json};

use super::auth::present;
use super::{Run, Written};
use crate::json_gen::valid_data;
use crate::json_read::lenient_json;
use crate::names::VALID_STREAMS;
use crate::requests::{Framing, OK, Req, excerpt};

impl Run {
    /// A valid `stream.write` or `stream.writeBatch`, recorded for the read-back.
    pub async fn valid_write(&mut self) {
        let token = if self.rng.percent(70) {
            self.admin.clone()
        } else {
            self.tenant.clone()
        };
        let stream = if self.rng.percent(10) {
            format!("valid-{}", "n".repeat(500))
        } else {
            self.rng.pick(&VALID_STREAMS).to_string()
        };
        let key = (token.clone(), stream.clone());
        let version = self.versions.get(&key).copied();
        let batch = self.rng.percent(25);
        let n = if batch { 1 + self.rng.below(4) } else { 1 };
        let (messages, ids) = self.valid_messages(n, batch);
        let mut options = json!({});
        if !batch && let Some(id) = &ids[0] {
            options["id"] = json!(id);
        }
        if self.rng.percent(50) {
            options["expectedVersion"] = json!(version.unwrap_or(-1));
        }
        let (method, body) = if batch {
            (
                "stream.writeBatch",
                json!(["stream.writeBatch", stream, messages, options]),
            )
        } else {
            (
                "stream.write",
                json!(["stream.write", stream, messages[0], options]),
            )
        };
        let mut req = Req::rpc(&format!("{method} (valid)"));
        let mut query = Vec::new();
        present(&token, !self.rng.percent(80), &mut query, &mut req);
        req.set_target("/rpc", &query);
        req.header("Content-Type", "application/json");
        req.body = body.to_string().into_bytes();
        req.framing = if self.rng.percent(90) {
            Framing::Exact
        } else {
            Framing::Chunked
        };
        req.tag = "valid".into();
        req.expect = OK;
        let Some(resp) = self.send(&req).await else {
            return;
        };
        if resp.status != 200 {
            return;
        }
        let positions = self.check_positions(&req, &resp.body, version, n, batch);
        let Some((first, gfirst, last, glast)) = positions else {
            return;
        };
        for (i, (m, id)) in messages.into_iter().zip(ids).enumerate() {
            // The answer names the global positions of the first and the last message only.
            let gpos = if i == 0 {
                Some(gfirst)
            } else if i == n - 1 {
                Some(glast)
            } else {
                None
            };
            self.valid.push(Written {
                token: token.clone(),
                stream: stream.clone(),
                position: first + i as i64,
                gpos,
                id,
                message_type: m["type"].as_str().unwrap_or_default().to_string(),
                data: m["data"].clone(),
                metadata: m.get("metadata").cloned().unwrap_or(Value::Null),
            });
        }
        self.versions.insert(key, last);
    }

    /// `n` valid messages, and the ids some of them were given (in the message in a batch).
    fn valid_messages(&mut self, n: usize, batch: bool) -> (Vec<Value>, Vec<Option<String>>) {
        let mut messages = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..n {
            let mut m = json!({
                "type": self.rng.pick(&["Valid", "Ünïcode Type", "t"]),
                "data": valid_data(&mut self.rng, 0),
            });
            match self.rng.below(3) {
                0 => {}
                1 => m["metadata"] = Value::Null,
                _ => {
                    m["metadata"] =
                        json!({"correlationStreamName": "valid-9", "big": u64::MAX, "s": "ü"})
                }
            }
            let id = if self.rng.percent(50) {
                Some(self.rng.uuid())
            } else {
                None
            };
            if batch && let Some(id) = &id {
                m["id"] = json!(id);
            }
            ids.push(id);
            messages.push(m);
        }
        (messages, ids)
    }

    /// A write's answer: `n` messages from the stream's next position on; the first and last
    /// positions and global positions when the answer has them.
    fn check_positions(
        &mut self,
        req: &Req,
        body: &[u8],
        version: Option<i64>,
        n: usize,
        batch: bool,
    ) -> Option<(i64, i64, i64, i64)> {
        let result = lenient_json(body).unwrap_or(Value::Null);
        let (Some(first), Some(gfirst)) = (
            result["position"].as_i64(),
            result["globalPosition"].as_i64(),
        ) else {
            self.f.add(
                "valid write answered without position/globalPosition",
                req,
                Some(200),
                excerpt(body, 200),
            );
            return None;
        };
        let (last, glast) = if batch {
            (
                result["lastPosition"].as_i64().unwrap_or(-1),
                result["lastGlobalPosition"].as_i64().unwrap_or(-1),
            )
        } else {
            (first, gfirst)
        };
        let n = n as i64;
        let want_first = version.map_or(0, |v| v + 1);
        if first != want_first || last != first + n - 1 || glast < gfirst + n - 1 {
            self.f.add(
                "valid write at the wrong position",
                req,
                Some(200),
                format!(
                    "expected positions {want_first}..={}, got {}",
                    want_first + n - 1,
                    excerpt(body, 200)
                ),
            );
        }
        Some((first, gfirst, last, glast))
    }
}
