//! `GET /subscribe` (§4): a valid stream, category or `all` subscription, then often garbage
//! parameters; a 200 must be an event stream that says `: ready`.

use super::Run;
use crate::names::pct;
use crate::requests::{OK, Req, Route};
use crate::rng::Rng;

/// Parameter values that are not numbers, or not numbers in range.
const GARBAGE: [&str; 13] = [
    "",
    "-1",
    "abc",
    "1.5",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1e3",
    "%00",
    "0x10",
    "%201",
    "%FF",
    "+1",
];

impl Run {
    /// `GET /subscribe` with valid or garbage parameters.
    pub async fn subscribe(&mut self) {
        let mut req = Req::new(
            Route::Subscribe,
            "GET",
            String::new(),
            "GET /subscribe".into(),
        );
        let mut query = Vec::new();
        let auth = self.auth(&mut query, &mut req);
        let mut params = valid_params(&mut self.rng);
        let mut tags = Vec::new();
        if self.rng.percent(65) {
            for _ in 0..1 + self.rng.below(3) {
                tags.push(garble(&mut self.rng, &mut params).to_string());
            }
        }
        params.extend(query);
        req.set_target("/subscribe", &params);
        if let Some(t) = self.odd_headers(&mut req) {
            tags.push(t);
        }
        req.expect = if auth.token.is_none() {
            auth.expect
        } else if tags.is_empty() {
            OK
        } else {
            None
        };
        if auth.token.is_none() {
            tags.insert(0, auth.tag);
        }
        req.tag = tags.join(" ");
        self.send(&req).await;
    }
}

/// A valid subscription: a stream, a category (sometimes with a consumer group) or all.
fn valid_params(rng: &mut Rng) -> Vec<String> {
    let mut params = Vec::new();
    let category = match rng.below(3) {
        0 => {
            // Names every rule accepts; odd ones come as mutations.
            let stream = rng.pick(&["v", "valid-1", "välid-4", "valid-😀-5", "fz-1", "fz3-7"]);
            params.push(format!("stream={}", pct(stream)));
            false
        }
        1 => {
            params.push(format!(
                "category={}",
                pct(rng.pick(&["valid", "fz", "fz0", "valid:command"]))
            ));
            true
        }
        _ => {
            params.push("all=true".into());
            false
        }
    };
    if rng.percent(50) {
        params.push(format!("position={}", rng.below(50)));
    }
    if category && rng.percent(40) {
        let size = 1 + rng.below(4);
        let member = rng.below(size);
        if rng.percent(50) {
            params.push(format!("consumer={member}&size={size}"));
        } else {
            params.push(format!(
                "consumerGroupMember={member}&consumerGroupSize={size}"
            ));
        }
    }
    params
}

/// Adds a bad, conflicting or junk parameter (or drops the target); what was done.
fn garble(rng: &mut Rng, params: &mut Vec<String>) -> &'static str {
    let garbage = rng.pick(&GARBAGE);
    let (p, tag): (String, &str) = match rng.below(14) {
        0 => (format!("position={garbage}"), "position=garbage"),
        1 => (format!("consumer={garbage}&size=2"), "consumer=garbage"),
        2 => (format!("consumer=0&size={garbage}"), "size=garbage"),
        3 => ("consumer=1".into(), "consumer without size"),
        4 => ("size=3".into(), "size without consumer"),
        5 => ("consumer=3&size=3".into(), "consumer >= size"),
        6 => ("stream=valid-1".into(), "+stream"),
        7 => ("category=valid".into(), "+category"),
        8 => (
            rng.pick(&["all=false", "all=TRUE", "all=1", "all="]).into(),
            "all=odd",
        ),
        9 => {
            params.clear();
            (String::new(), "no target")
        }
        10 => ("stream=a&stream=b".into(), "duplicate stream"),
        11 => (
            rng.pick(&["stream=", "category=", "stream=%FF%FE", "stream=%00"])
                .into(),
            "odd target value",
        ),
        12 => (format!("stream=fz-{}", "x".repeat(10_000)), "10 KB stream"),
        _ => (
            rng.pick(&[
                "x=%ZZ",
                "&&&",
                "=",
                "stream",
                "%=%",
                "position=1&position=x",
            ])
            .into(),
            "junk query",
        ),
    };
    if !p.is_empty() {
        params.push(p);
    }
    tag
}
