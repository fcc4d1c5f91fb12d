//! Import lines that are not valid records (each must end the import `INVALID_JSON` or
//! `INVALID_RECORD`), and odd ones that are (any answer but `IMPORT_FAILED`).

use serde_json::{Value, json};

use super::Run;
use crate::rng::Rng;

/// An odd record: a textual edit of a valid one, or a repeat of the last one.
enum Edit<'a> {
    /// The first `from` becomes `to`.
    Replace(&'a str, &'a str),
    RepeatLast,
}

impl Run {
    /// A line that is not a record, or not a valid one; its tag.
    pub(super) fn malformed_line(&mut self, stream: &str) -> (Vec<u8>, String) {
        let mut base = self.record(stream, 0, 1);
        let field = self.rng.pick(&[
            "id", "stream", "type", "pos", "gpos", "data", "meta", "time",
        ]);
        let text = base.to_string();
        let edit = |from: &str, to: &str| text.replacen(from, to, 1).into_bytes();
        match self.rng.below(12) {
            0 => (b"{\"id\":".to_vec(), "truncated JSON".into()),
            1 => (b"garbage".to_vec(), "not JSON".into()),
            2 => (b"\xff\xfe{}".to_vec(), "non-UTF-8".into()),
            3 => (
                self.rng
                    .pick(&["[1,2]", "null", "\"s\"", "{}", "42"])
                    .as_bytes()
                    .to_vec(),
                "JSON, not a record".into(),
            ),
            // (`meta` may be missing: that case falls through to a negative pos.)
            4 if field != "meta" => {
                base.as_object_mut().map(|o| o.remove(field));
                (base.to_string().into_bytes(), format!("missing {field}"))
            }
            5 => {
                base[field] = wrong_kind(&mut self.rng, field);
                (
                    base.to_string().into_bytes(),
                    format!("{field} of the wrong kind"),
                )
            }
            6 => (
                edit("\"gpos\":1", "\"gpos\":9223372036854775808"),
                "gpos beyond i64".into(),
            ),
            7 => (
                edit("\"pos\":0", "\"pos\":-9223372036854775809"),
                "pos beyond i64 (negative)".into(),
            ),
            8 => {
                let cut = self.rng.below(text.len().max(1));
                (text.as_bytes()[..cut].to_vec(), "record cut short".into())
            }
            9 => (
                edit("\"data\":", &format!("\"data\":{}", "[".repeat(10_000))),
                "10000 x [ in data".into(),
            ),
            10 => (
                edit("\"id\":\"", "\"id\":\"\\ud800"),
                "lone surrogate in id".into(),
            ),
            _ => {
                base["pos"] = json!(-1);
                (base.to_string().into_bytes(), "negative pos".into())
            }
        }
    }

    /// A well-formed record with odd content, after `records` (or a repeat of the last); its
    /// tag.
    pub(super) fn odd_line(&mut self, stream: &str, records: &[Value]) -> (Vec<u8>, String) {
        let last = records.last();
        let next_gpos = last
            .and_then(|r| r["gpos"].as_i64())
            .map_or(1, |g| g.saturating_add(1));
        let text = self.record(stream, 1000, next_gpos).to_string();
        let long_stream = format!("\"stream\":\"{}", "s".repeat(10_000));
        let edits = [
            (
                Edit::Replace("\"stream\":\"", "\"stream\":\"nul\\u0000"),
                "NUL in stream",
            ),
            (
                Edit::Replace("\"type\":\"", "\"type\":\"\\u0000"),
                "NUL in type",
            ),
            (
                Edit::Replace("\"data\":{", "\"data\":{\"nul\":\"a\\u0000b\","),
                "NUL in data",
            ),
            (
                Edit::Replace("\"data\":{", "\"data\":{\"s\":\"\\ud800\","),
                "lone surrogate in data",
            ),
            (
                Edit::Replace("\"meta\":", "\"meta\":{\"s\":\"\\udc00\"},\"was\":"),
                "lone surrogate in meta",
            ),
            (Edit::RepeatLast, "repeated record"),
            (Edit::Replace("\"stream\":\"", &long_stream), "10 KB stream"),
            (
                Edit::Replace(
                    "\"time\":\"",
                    "\"time\":\"9999-12-31T23:59:59.999999Z\",\"t\":\"",
                ),
                "time 9999",
            ),
            (Edit::Replace("{", "{\"extra\":[1,2,3],"), "extra field"),
        ];
        let (edit, tag) = &edits[self.rng.below(edits.len())];
        let (line, tag) = match (edit, last) {
            (Edit::Replace(from, to), _) => (text.replacen(from, to, 1), *tag),
            (Edit::RepeatLast, Some(r)) => (r.to_string(), *tag),
            (Edit::RepeatLast, None) => (text, "record"),
        };
        (line.into_bytes(), tag.into())
    }
}

/// A value of the wrong kind for a record's `field`.
fn wrong_kind(rng: &mut Rng, field: &str) -> Value {
    match field {
        "id" => json!(rng.pick(&["not-a-uuid", "", "00000000-0000-0000-0000-00000000000g"])),
        "stream" | "type" => rng.pick(&[json!(""), json!(5), json!(null), json!(["a"])]),
        "pos" => rng.pick(&[json!(-1), json!(1.5), json!("0"), json!(null)]),
        "gpos" => rng.pick(&[json!(0), json!(-5), json!(1.5), json!("1"), json!(null)]),
        "data" => rng.pick(&[json!([]), json!("x"), json!(null), json!(1)]),
        "meta" => rng.pick(&[json!("x"), json!([]), json!(5)]),
        _ => rng.pick(&[
            json!("yesterday"),
            json!(12345),
            json!(""),
            json!("2024-13-45T99:99:99Z"),
        ]),
    }
}
