//! `POST /rpc`: every method of §3 and unknown ones, built valid, then (mostly) mutated in its
//! JSON tree or its text, with odd content types, headers and framing.

use serde_json::Value;

use super::{Accepted, Run};
use crate::json_gen::{J, mutate, quote, weird};
use crate::json_read::lenient_json;
use crate::requests::{Expect, Framing, Req, Route, expect};

const METHODS: [&str; 15] = [
    "stream.write",
    "stream.writeBatch",
    "stream.get",
    "stream.last",
    "stream.version",
    "category.get",
    "ns.create",
    "ns.delete",
    "ns.list",
    "ns.info",
    "ns.streams",
    "ns.categories",
    "sys.version",
    "sys.health",
    "<unknown>",
];

const UNKNOWN_METHODS: [&str; 10] = [
    "stream.writ",
    "STREAM.WRITE",
    "",
    "stream.",
    ".",
    "ns.list ",
    "sys.health\u{0}",
    "__proto__",
    "stream.write.extra",
    "sys",
];

impl Run {
    /// A `/rpc` request built from a valid one, then (mostly) mutated.
    pub async fn rpc(&mut self) {
        let picked = self.rng.pick(&METHODS);
        let mut query = Vec::new();
        let mut req = Req::new(Route::Rpc, "POST", String::new(), String::new());
        let auth = self.auth(&mut query, &mut req);
        let tenant = auth.token.as_deref() == Some(self.tenant.as_str());
        let method = if picked == "<unknown>" {
            self.rng.pick(&UNKNOWN_METHODS).to_string()
        } else {
            picked.to_string()
        };
        let args = self.base_args(&method, tenant);
        let mut root = J::Arr(
            std::iter::once(J::Raw(quote(&method)))
                .chain(args.iter().map(J::from))
                .collect(),
        );
        let mut tags = vec![auth.tag.clone()];
        // What a request that reaches the method with a valid token must get.
        let mut envelope: Option<Expect> = if picked == "<unknown>" {
            expect(404, "METHOD_NOT_FOUND")
        } else {
            None
        };
        let mut label = format!("POST /rpc {picked}");
        match self.rng.below(20) {
            0..=1 => tags.push("as generated".into()),
            2 => {
                let (raw, tag) = weird(&mut self.rng);
                envelope = if raw.starts_with('"') {
                    None // a string method: unknown, or a surrogate the server cannot read
                } else {
                    expect(400, "INVALID_REQUEST")
                };
                if let J::Arr(items) = &mut root {
                    items[0] = J::Raw(raw);
                }
                label = "POST /rpc <mutated method>".into();
                tags.push(format!("method<-{tag}"));
            }
            _ => {
                for _ in 0..1 + self.rng.below(3) {
                    tags.push(mutate(&mut root, &mut self.rng));
                }
            }
        }
        let mut body = root.text().into_bytes();
        // Text-level damage.
        if self.rng.percent(15) {
            let (tag, after) = self.damage(&mut body);
            envelope = after;
            label = "POST /rpc <damaged body>".into();
            tags.push(tag.into());
        }
        tags.push(self.content_type(&mut req));
        if let Some(t) = self.odd_headers(&mut req) {
            tags.push(t);
        }
        req.framing = self.rpc_framing(&body, &mut envelope, &mut tags);
        req.set_target("/rpc", &query);
        req.body = body;
        req.label = label;
        req.group = "POST /rpc".into();
        req.expect = if auth.token.is_some() {
            envelope
        } else {
            auth.expect
        };
        // Mutation tags name what was done; the auth tag only matters when auth is the point.
        req.tag = if auth.token.is_some() {
            tags[1..].join(" ")
        } else {
            tags.join(" ")
        };
        // The stream of a write that kept its method and a string stream: read back if accepted.
        let write = matches!(method.as_str(), "stream.write" | "stream.writeBatch");
        let stream_json = match &root {
            J::Arr(items) if write && req.label.ends_with(&method) => match items.get(1) {
                Some(J::Raw(r)) if r.starts_with('"') => Some(r.clone()),
                _ => None,
            },
            _ => None,
        };
        let resp = self.send(&req).await;
        let (Some(resp), Some(token)) = (resp, auth.token) else {
            return;
        };
        if resp.status != 200 {
            return;
        }
        if let Ok(result) = lenient_json(&resp.body) {
            self.remember(&method, &token, stream_json, &result);
        }
    }

    /// Damages the body's text; what was done, and what the answer must then be.
    fn damage(&mut self, body: &mut Vec<u8>) -> (&'static str, Option<Expect>) {
        let invalid = expect(400, "INVALID_REQUEST");
        match self.rng.below(11) {
            0 => {
                let cut = self.rng.below(body.len());
                body.truncate(cut);
                ("truncated", invalid)
            }
            1 => {
                let at = self.rng.below(body.len() + 1);
                let junk = self
                    .rng
                    .pick(&[&b"\xff"[..], b"\xc3\x28", b"\xed\xa0\x80", b"\x00"]);
                body.splice(at..at, junk.iter().copied());
                ("non-UTF-8/NUL byte inserted", invalid)
            }
            2 => {
                body.splice(0..0, "[".repeat(10_000).into_bytes());
                ("10000 x [", invalid)
            }
            3 => {
                body.clear();
                ("empty body", invalid)
            }
            4 => {
                *body = self
                    .rng
                    .pick(&[
                        "{}",
                        "\"stream.get\"",
                        "null",
                        "1",
                        "{\"method\":\"sys.health\"}",
                    ])
                    .into();
                ("not an array", invalid)
            }
            5 => {
                *body = b"[]".to_vec();
                ("[]", invalid)
            }
            6 => {
                body.splice(0..0, "\u{feff}".bytes());
                ("BOM", invalid)
            }
            7 => {
                body.extend_from_slice(b"]garbage");
                ("trailing garbage", invalid)
            }
            8 => {
                *body = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
                ("5000 nested arrays, balanced", None)
            }
            9 => {
                *body = b"[\"sys.version\"".to_vec();
                ("unclosed array", invalid)
            }
            _ => {
                body.splice(0..0, *b"  \n\t");
                body.extend_from_slice(b"\n ");
                ("whitespace padding", None)
            }
        }
    }

    /// Mostly an exact `Content-Length`; sometimes chunked, short or long (then EOF).
    fn rpc_framing(
        &mut self,
        body: &[u8],
        envelope: &mut Option<Expect>,
        tags: &mut Vec<String>,
    ) -> Framing {
        let framing = match self.rng.below(100) {
            0..=84 => Framing::Exact,
            85..=91 => Framing::Chunked,
            92..=95 if !body.is_empty() && body.len() < 4096 => {
                *envelope = None;
                let n = 1 + self.rng.below(body.len().min(8));
                tags.push(format!("Content-Length {n} short"));
                Framing::Short(n)
            }
            _ => {
                let n = 1 + self.rng.below(100);
                tags.push(format!("Content-Length {n} long, then EOF"));
                Framing::Long(n)
            }
        };
        if body.is_empty() && framing == Framing::Exact && self.rng.percent(50) {
            tags.push("no Content-Length".into());
            return Framing::Omitted;
        }
        framing
    }

    /// Keeps what an accepted request changed: a write's positions (to read back), the
    /// namespaces that now exist.
    fn remember(&mut self, method: &str, token: &str, stream_json: Option<String>, result: &Value) {
        if let Some(stream_json) = stream_json {
            for (p, g) in [
                ("position", "globalPosition"),
                ("lastPosition", "lastGlobalPosition"),
            ] {
                if let (Some(position), Some(gpos)) = (result[p].as_i64(), result[g].as_i64()) {
                    self.accepted.push(Accepted {
                        token: token.to_string(),
                        stream_json: stream_json.clone(),
                        position,
                        gpos,
                    });
                }
            }
        }
        let namespace = result["namespace"].as_str();
        match (method, namespace) {
            ("ns.create", Some(ns)) => self.created.push(ns.to_string()),
            ("ns.delete", Some(ns)) => self.created.retain(|c| c != ns),
            _ => {}
        }
    }
}
