//! Valid-looking arguments for each RPC method of §3 (not necessarily successful ones): the
//! starting point that `rpc.rs` then mutates.

use serde_json::{Value, json};

use super::Run;
use crate::json_gen::valid_data;
use crate::names::{any_stream, fuzz_stream, token_for};
use crate::rng::Rng;

/// Sets `o[key]` `p` times in a hundred, to a value made (only then) by `make`.
fn sometimes(
    rng: &mut Rng,
    p: u64,
    o: &mut Value,
    key: &str,
    make: impl FnOnce(&mut Rng) -> Value,
) {
    if rng.percent(p) {
        o[key] = make(rng);
    }
}

/// `value` 60 times in a hundred (made whether or not it is used).
fn maybe(rng: &mut Rng, value: Value) -> Option<Value> {
    if rng.percent(60) { Some(value) } else { None }
}

impl Run {
    /// The arguments (after the method) of `method`; `tenant` when the tenant's token is used.
    pub(super) fn base_args(&mut self, method: &str, tenant: bool) -> Vec<Value> {
        match method {
            "stream.write" => self.write_args(),
            "stream.writeBatch" => self.batch_args(),
            "stream.get" => read_args(&mut self.rng, false),
            "category.get" => read_args(&mut self.rng, true),
            "stream.last" => {
                let rng = &mut self.rng;
                let mut args = vec![json!(any_stream(rng))];
                if rng.percent(50) {
                    args.push(json!({"type": rng.pick(&["", "Valid", "Fz"])}));
                }
                args
            }
            "stream.version" => vec![json!(any_stream(&mut self.rng))],
            "ns.create" => self.ns_create_args(),
            "ns.delete" | "ns.info" => {
                let mut id = self.namespace_id();
                // The tenant deleting its own namespace would end the run's use of its token.
                if tenant && method == "ns.delete" && id == "fuzz_tenant" {
                    id = "nobody_1".into();
                }
                if method == "ns.info" && self.rng.percent(20) {
                    id = "fuzz_tenant".into();
                }
                vec![json!(id)]
            }
            "ns.streams" => {
                let rng = &mut self.rng;
                let mut args = Vec::new();
                if rng.percent(70) {
                    let mut o = json!({});
                    sometimes(rng, 50, &mut o, "prefix", |r| {
                        json!(r.pick(&["", "valid", "fz", "ü"]))
                    });
                    sometimes(rng, 50, &mut o, "limit", |r| {
                        json!(r.pick(&[1i64, 100, 1000, 0, 1001, -1]))
                    });
                    sometimes(rng, 30, &mut o, "cursor", |r| {
                        json!(r.pick(&["", "valid-1", "zzz"]))
                    });
                    args.push(o);
                }
                args
            }
            _ => Vec::new(),
        }
    }

    /// A message to write: a type, valid data, sometimes metadata.
    fn message(&mut self) -> Value {
        let mut m = json!({
            "type": self.rng.pick(&["Fz", "T", "Ünï"]),
            "data": valid_data(&mut self.rng, 0),
        });
        if self.rng.percent(40) {
            m["metadata"] = if self.rng.percent(30) {
                Value::Null
            } else {
                json!({"correlationStreamName": "valid-1", "n": 1})
            };
        }
        m
    }

    fn write_args(&mut self) -> Vec<Value> {
        let stream = fuzz_stream(&mut self.rng);
        let message = self.message();
        let rng = &mut self.rng;
        let mut args = vec![json!(stream), message];
        if rng.percent(60) {
            let mut o = json!({});
            sometimes(rng, 50, &mut o, "id", |r| json!(r.uuid()));
            sometimes(rng, 50, &mut o, "expectedVersion", |r| {
                json!(r.pick(&[-1i64, 0, 1, 5, 1000]))
            });
            args.push(o);
        }
        args
    }

    fn batch_args(&mut self) -> Vec<Value> {
        let stream = fuzz_stream(&mut self.rng);
        let n = 1 + self.rng.below(4);
        let mut messages = Vec::new();
        for _ in 0..n {
            let mut m = self.message();
            sometimes(&mut self.rng, 40, &mut m, "id", |r| json!(r.uuid()));
            messages.push(m);
        }
        let rng = &mut self.rng;
        let mut args = vec![json!(stream), Value::Array(messages)];
        if rng.percent(50) {
            args.push(json!({"expectedVersion": rng.pick(&[-1i64, 0, 3])}));
        }
        args
    }

    fn ns_create_args(&mut self) -> Vec<Value> {
        let id = self.namespace_id();
        let rng = &mut self.rng;
        let mut args = vec![json!(id)];
        if rng.percent(60) {
            let mut o = json!({});
            sometimes(rng, 50, &mut o, "description", |_| json!("fuzz"));
            sometimes(rng, 40, &mut o, "token", |r| {
                let of = if r.percent(70) {
                    id.clone()
                } else {
                    "other".into()
                };
                json!(token_for(&of, r))
            });
            sometimes(rng, 30, &mut o, "metadata", |_| json!({"k": 1}));
            args.push(o);
        }
        args
    }

    /// A namespace id: one made earlier, `default`, unknown, invalid or new.
    fn namespace_id(&mut self) -> String {
        if !self.created.is_empty() && self.rng.percent(50) {
            return self.rng.pick(&self.created);
        }
        match self.rng.below(6) {
            0 => "default".into(),
            1 => format!("nobody_{}", self.rng.below(1000)),
            2 => "a".repeat(129),
            3 => "bad id/x".into(),
            _ => {
                self.next_ns += 1;
                format!("fz_{}", self.next_ns)
            }
        }
    }
}

/// `stream.get` or `category.get`: a name and read options, at edges and beyond.
fn read_args(rng: &mut Rng, category: bool) -> Vec<Value> {
    let name = if category {
        rng.pick(&["", "valid", "fz", "fz0", "valid:command", "fz-1", "v"])
            .to_string()
    } else {
        any_stream(rng)
    };
    let mut args = vec![json!(name)];
    if rng.percent(70) {
        let mut o = json!({});
        let position = json!(rng.pick(&[0i64, 1, 3, 100]));
        if let Some(v) = maybe(rng, position) {
            o["position"] = v;
        }
        sometimes(rng, 30, &mut o, "globalPosition", |r| {
            json!(r.pick(&[1i64, 5, 50]))
        });
        let batch = json!(rng.pick(&[-1i64, 0, 1, 10, 1000, 10_000, 10_001]));
        if let Some(v) = maybe(rng, batch) {
            o["batchSize"] = v;
        }
        if category {
            sometimes(rng, 30, &mut o, "correlation", |r| {
                json!(r.pick(&["", "valid", "fz"]))
            });
            sometimes(rng, 40, &mut o, "consumerGroup", consumer_group);
        }
        args.push(o);
    }
    args
}

/// A consumer group, mostly valid, sometimes out of range or incomplete.
fn consumer_group(rng: &mut Rng) -> Value {
    let size = 1 + rng.below(4) as i64;
    let member = rng.below(size as usize) as i64;
    match rng.below(6) {
        0 => json!({}),
        1 => json!({"member": member}),
        2 => json!({"member": size, "size": size}),
        3 => json!({"member": -1, "size": size}),
        4 => json!({"member": 0, "size": 0}),
        _ => json!({"member": member, "size": size}),
    }
}
