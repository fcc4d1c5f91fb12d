//! Stream names, tokens and query text: the valid ones and the odd ones.

use crate::common::base64url;
use crate::rng::Rng;

/// Streams only valid writes touch (read by fuzzed requests too).
pub const VALID_STREAMS: [&str; 6] = [
    "v",
    "valid-1",
    "valid-2",
    "valid:command-3",
    "välid-4",
    "valid-😀-5",
];

/// A stream name for fuzzed requests: plain, long, odd or invalid.
pub fn fuzz_stream(rng: &mut Rng) -> String {
    match rng.below(13) {
        0 => "a".into(),
        1 => "fz-1".into(),
        2 | 3 => format!("fz{}-{}", rng.below(5), rng.below(40)),
        4 => "fz:cmd-7".into(),
        5 => "fz-x+y".into(),
        6 => "ünï-1".into(),
        7 => "with space-1".into(),
        8 => "-".into(),
        9 => {
            let n = rng.pick(&[255usize, 1000, 2700, 3000, 10_000]);
            format!("fz-{}", "x".repeat(n))
        }
        10 => "$all".into(),
        11 => "fz-\u{0}-1".into(),
        _ => "fz-😀".into(),
    }
}

/// A stream to read: one of the valid writes' streams, or a fuzzed name.
pub fn any_stream(rng: &mut Rng) -> String {
    if rng.percent(40) {
        rng.pick(&VALID_STREAMS).to_string()
    } else {
        fuzz_stream(rng)
    }
}

/// A well-formed token for a namespace (§5), with a random secret.
pub fn token_for(namespace: &str, rng: &mut Rng) -> String {
    format!("ns_{}_{}", base64url(namespace), rng.hex64())
}

/// Percent-encodes everything but unreserved characters.
pub fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
