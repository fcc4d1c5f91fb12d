//! The requests of a run, one file per route family, over the run's state: its generator, its
//! findings, the tokens in play and what was written (to read back at the end).

mod auth;
mod bad_records;
mod headers;
mod import;
mod read_back;
mod routes;
mod rpc;
mod rpc_args;
mod sse;
mod valid_write;

use std::collections::HashMap;

use serde_json::Value;

use crate::REQUEST_DEADLINE;
use crate::checks::check;
use crate::findings::Findings;
use crate::json_read::lenient_json;
use crate::requests::{Expect, Framing, OK, Req};
use crate::rng::Rng;
use crate::wire::{Resp, exchange};

/// A valid write, acknowledged: read back at the end.
struct Written {
    token: String,
    stream: String,
    position: i64,
    gpos: Option<i64>,
    id: Option<String>,
    message_type: String,
    data: Value,
    metadata: Value,
}

/// A mutated write the server accepted: its position must read back too.
struct Accepted {
    token: String,
    /// The stream name as it was sent (raw JSON: it may hold what serde_json cannot).
    stream_json: String,
    position: i64,
    gpos: i64,
}

pub struct Run {
    port: u16,
    pub rng: Rng,
    pub f: Findings,
    admin: String,
    /// The token of `fuzz_tenant`, a namespace besides `default`.
    pub tenant: String,
    /// The token of `fuzz_import`, the only namespace imports (which may clear it) go to.
    pub importer: String,
    /// Namespaces fuzzed `ns.create` calls made (and `ns.delete` did not delete).
    created: Vec<String>,
    next_ns: usize,
    /// Last position of each (token, stream) of the valid streams.
    versions: HashMap<(String, String), i64>,
    valid: Vec<Written>,
    accepted: Vec<Accepted>,
}

impl Run {
    /// A run against the server on `port` whose admin token is `admin`.
    pub fn new(port: u16, seed: u64, admin: &str) -> Run {
        Run {
            port,
            rng: Rng(seed),
            f: Findings::default(),
            admin: admin.into(),
            tenant: String::new(),
            importer: String::new(),
            created: Vec::new(),
            next_ns: 0,
            versions: HashMap::new(),
            valid: Vec::new(),
            accepted: Vec::new(),
        }
    }

    /// How many valid writes and accepted mutated writes the read-back checks.
    pub fn written(&self) -> (usize, usize) {
        (self.valid.len(), self.accepted.len())
    }

    /// Sends a request (within `REQUEST_DEADLINE`) and checks its answer.
    pub async fn send(&mut self, req: &Req) -> Option<Resp> {
        let outcome = match tokio::time::timeout(REQUEST_DEADLINE, exchange(self.port, req)).await {
            Ok(o) => o,
            Err(_) => Err(format!(
                "no complete response within {}s",
                REQUEST_DEADLINE.as_secs()
            )),
        };
        check(req, outcome, &mut self.f)
    }

    /// A plain, valid RPC call (setup, read-back): the result when it is a 200.
    pub async fn call(&mut self, token: &str, body: String, label: &str) -> Option<Value> {
        let raw = self.call_raw(token, body, label, OK).await?;
        lenient_json(&raw).ok()
    }

    /// An RPC call: the body of a 200.
    async fn call_raw(
        &mut self,
        token: &str,
        body: String,
        label: &str,
        expected: Option<Expect>,
    ) -> Option<Vec<u8>> {
        let mut req = Req::rpc(label);
        req.header("Authorization", format!("Bearer {token}"));
        req.header("Content-Type", "application/json");
        req.body = body.into_bytes();
        req.framing = Framing::Exact;
        req.tag = "valid".into();
        req.expect = expected;
        let resp = self.send(&req).await?;
        if resp.status != 200 {
            return None;
        }
        Some(resp.http.body)
    }
}
