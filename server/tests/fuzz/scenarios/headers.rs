//! Content types and odd extra headers, on any route.

use super::Run;
use crate::requests::Req;

impl Run {
    /// A `Content-Type` (mostly JSON) or none; its tag.
    pub(super) fn content_type(&mut self, req: &mut Req) -> String {
        let ct = self.rng.pick(&[
            Some("application/json"),
            Some("application/json"),
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/json; charset=utf-16"),
            Some(""),
            Some("APPLICATION/JSON"),
            Some("application/x-ndjson"),
        ]);
        match ct {
            Some(c) => {
                req.header("Content-Type", c);
                format!("Content-Type: {c}")
            }
            None => "no Content-Type".into(),
        }
    }

    /// Odd extra headers, now and then; their tag.
    pub(super) fn odd_headers(&mut self, req: &mut Req) -> Option<String> {
        let one = |name: &str, value: &[u8]| vec![(name.to_string(), value.to_vec())];
        let (headers, tag) = match self.rng.below(40) {
            0..=2 => (one("Expect", b"100-continue"), "Expect: 100-continue"),
            3 => (
                (0..50)
                    .map(|i| (format!("X-Fuzz-{i}"), b"v".to_vec()))
                    .collect(),
                "50 extra headers",
            ),
            4 => (one("X-Long", "a".repeat(4000).as_bytes()), "4 KB header"),
            5 => (one("X-Bin", b"\xff\xfe\x80"), "non-UTF-8 header value"),
            6 => (
                one("Content-Encoding", b"gzip"),
                "Content-Encoding: gzip (not gzipped)",
            ),
            7 => (
                [
                    one("Content-Type", b"text/plain"),
                    one("Content-Type", b"application/json"),
                ]
                .concat(),
                "two Content-Types",
            ),
            8 => (
                one("Accept", b"text/event-stream"),
                "Accept: text/event-stream",
            ),
            _ => return None,
        };
        for (name, value) in headers {
            req.header(&name, value);
        }
        Some(tag.into())
    }
}
