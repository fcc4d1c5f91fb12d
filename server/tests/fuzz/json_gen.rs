//! JSON to send: valid message data, and a tree of raw JSON text whose nodes are mutated into
//! values serde_json cannot even represent (lone surrogates, numbers beyond u64, deep nesting).

use serde_json::{Value, json};

use crate::rng::Rng;

/// A JSON string literal.
pub fn quote(s: &str) -> String {
    Value::from(s).to_string()
}

/// JSON being built: scalars are raw text so that anything (lone surrogates, numbers beyond
/// u64, …) can be said; object keys are raw JSON string literals.
#[derive(Clone, Debug)]
pub enum J {
    Raw(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn from(v: &Value) -> J {
        match v {
            Value::Array(a) => J::Arr(a.iter().map(J::from).collect()),
            Value::Object(o) => J::Obj(o.iter().map(|(k, v)| (quote(k), J::from(v))).collect()),
            other => J::Raw(other.to_string()),
        }
    }

    pub fn text(&self) -> String {
        let mut s = String::new();
        self.render(&mut s);
        s
    }

    fn render(&self, out: &mut String) {
        match self {
            J::Raw(r) => out.push_str(r),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.render(out);
                }
                out.push('}');
            }
        }
    }

    fn children(&self) -> Vec<&J> {
        match self {
            J::Arr(items) => items.iter().collect(),
            J::Obj(fields) => fields.iter().map(|(_, v)| v).collect(),
            J::Raw(_) => Vec::new(),
        }
    }

    fn child_mut(&mut self, i: usize) -> &mut J {
        match self {
            J::Arr(items) => &mut items[i],
            J::Obj(fields) => &mut fields[i].1,
            J::Raw(_) => unreachable!("a scalar has no children"),
        }
    }

    /// Adds `value` to a container (under `key` in an object); a scalar gives it back.
    fn push(&mut self, key: &str, value: J) -> Result<(), J> {
        match self {
            J::Arr(items) => items.push(value),
            J::Obj(fields) => fields.push((key.to_string(), value)),
            J::Raw(_) => return Err(value),
        }
        Ok(())
    }
}

fn paths(j: &J, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(prefix.clone());
    for (i, c) in j.children().into_iter().enumerate() {
        prefix.push(i);
        paths(c, prefix, out);
        prefix.pop();
    }
}

fn node_mut<'a>(mut j: &'a mut J, path: &[usize]) -> &'a mut J {
    for &i in path {
        j = j.child_mut(i);
    }
    j
}

/// `arg1.data.s`, `arg1[].type`: where a path points, for people (array indexes below the
/// arguments are left out so that findings group).
fn describe(root: &J, path: &[usize]) -> String {
    let mut out = String::new();
    let mut j = root;
    for (depth, &i) in path.iter().enumerate() {
        match j {
            J::Arr(items) => {
                if depth == 0 {
                    out.push_str(&format!("arg{i}"));
                } else {
                    out.push_str("[]");
                }
                j = &items[i];
            }
            J::Obj(fields) => {
                let key = serde_json::from_str::<String>(&fields[i].0)
                    .unwrap_or_else(|_| fields[i].0.clone());
                out.push('.');
                out.push_str(&key.chars().take(20).collect::<String>());
                j = &fields[i].1;
            }
            J::Raw(_) => break,
        }
    }
    out
}

fn long_string(rng: &mut Rng) -> (String, String) {
    let n = rng.pick(&[1usize, 2, 255, 256, 1024, 2700, 4096, 10_000]);
    let c = rng.pick(&['a', 'é', '-', '😀']);
    let s: String = std::iter::repeat_n(c, (n / c.len_utf8()).max(1)).collect();
    (quote(&s), format!("long-string({n}B)"))
}

/// Values of the wrong kind, or of the right kind at an edge: raw JSON and a tag.
const WEIRD: [(&str, &str); 39] = [
    ("null", "null"),
    ("true", "bool"),
    ("false", "bool"),
    ("0", "zero"),
    ("-1", "negative"),
    ("-2", "negative"),
    ("-9223372036854775808", "i64-min"),
    ("9223372036854775807", "i64-max"),
    ("9223372036854775806", "i64-max-1"),
    ("9223372036854775808", "beyond-i64"),
    ("18446744073709551616", "beyond-u64"),
    ("-123456789012345678901234567890", "huge-negative-int"),
    ("123456789012345678901234567890", "huge-int"),
    ("1.5", "float"),
    ("-0.0", "float"),
    ("1e308", "huge-float"),
    ("1e400", "float-overflow"),
    ("2.5e-400", "float-underflow"),
    ("\"\"", "empty-string"),
    ("\"x\"", "string"),
    ("\"5\"", "numeric-string"),
    ("\"a\\u0000b\"", "nul-string"),
    ("\"\\u0000\"", "nul-string"),
    ("\"\\ud800\"", "lone-surrogate"),
    ("\"x\\udfff\"", "lone-surrogate"),
    ("\"\\udc00\\ud800\"", "reversed-surrogates"),
    ("\"\\ud83d\\ude00\"", "surrogate-pair"),
    ("\"  \"", "blank-string"),
    ("\"\\n\\t\\\"\"", "escapes"),
    ("[]", "array"),
    ("{}", "object"),
    ("[1,\"a\",null]", "array"),
    ("{\"a\":{\"b\":[1]}}", "object"),
    ("\"not-a-uuid\"", "bad-uuid"),
    ("\"00000000-0000-0000-0000-00000000000g\"", "bad-uuid"),
    ("\"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}\"", "braced-uuid"),
    ("\"6BA7B810-9DAD-11D1-80B4-00C04FD430C8\"", "uppercase-uuid"),
    ("\"00000000-0000-0000-0000-000000000000\"", "nil-uuid"),
    ("\"6ba7b8109dad11d180b400c04fd430c8\"", "simple-uuid"),
];

/// A value of the wrong kind, or of the right kind at an edge: raw JSON and a tag.
pub fn weird(rng: &mut Rng) -> (String, String) {
    let fixed = WEIRD.len();
    match rng.below(fixed + 3) {
        i if i < fixed => (WEIRD[i].0.to_string(), WEIRD[i].1.to_string()),
        i if i == fixed => long_string(rng),
        i if i == fixed + 1 => {
            let depth = rng.pick(&[100usize, 127, 128, 129, 1000, 10_000]);
            (
                format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
                format!("nested-{depth}"),
            )
        }
        _ => {
            let depth = rng.pick(&[127usize, 128, 129, 2000]);
            let s = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            (s, format!("nested-objects-{depth}"))
        }
    }
}

/// Mutates one node of `root` (the request array; index 0, the method, is left alone); returns
/// what was done.
pub fn mutate(root: &mut J, rng: &mut Rng) -> String {
    let mut all = Vec::new();
    paths(root, &mut Vec::new(), &mut all);
    let candidates: Vec<Vec<usize>> = all
        .into_iter()
        .filter(|p| !p.is_empty() && p[0] != 0)
        .collect();
    if candidates.is_empty() {
        let (raw, tag) = weird(rng);
        let _ = root.push("", J::Raw(raw));
        return format!("extra-arg<-{tag}");
    }
    let path = rng.pick(&candidates);
    let at = describe(root, &path);
    let (parent, last) = path.split_at(path.len() - 1);
    match rng.below(10) {
        0..=5 => {
            let (raw, tag) = weird(rng);
            *node_mut(root, &path) = J::Raw(raw);
            format!("{at}<-{tag}")
        }
        6 => {
            match node_mut(root, parent) {
                J::Arr(items) => {
                    items.remove(last[0]);
                }
                J::Obj(fields) => {
                    fields.remove(last[0]);
                }
                J::Raw(_) => {}
            }
            format!("{at}:removed")
        }
        7 => {
            let (raw, tag) = weird(rng);
            let key = rng.pick(&["\"extra\"", "\"\"", "\"__proto__\"", "\"\\u0000\""]);
            // Into the node when it is a container, else beside it.
            if let Err(value) = node_mut(root, &path).push(key, J::Raw(raw)) {
                let _ = node_mut(root, parent).push(key, value);
            }
            format!("{at}:extra<-{tag}")
        }
        8 => {
            let (raw, tag) = weird(rng);
            if let J::Obj(fields) = node_mut(root, parent) {
                let key = fields[last[0]].0.clone();
                fields.push((key, J::Raw(raw)));
                format!("{at}:duplicate-key<-{tag}")
            } else {
                *node_mut(root, &path) = J::Raw(raw);
                format!("{at}<-{tag}")
            }
        }
        _ => {
            let node = node_mut(root, &path);
            let inner = node.clone();
            *node = J::Arr(vec![inner]);
            format!("{at}:wrapped-in-array")
        }
    }
}

/// Message data every rule accepts: edge numbers, odd text, nesting.
pub fn valid_data(rng: &mut Rng, depth: usize) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.below(5) {
        let key = rng.pick(&["n", "s", "f", "big", "nested", "list", "flag", "u", "neg"]);
        let value = match rng.below(10) {
            0 => json!(rng.below(1000)),
            1 => json!(rng.pick(&[i64::MAX, i64::MIN, 9_007_199_254_740_993, -1])),
            2 => json!(u64::MAX),
            3 => json!(rng.pick(&[1.5, -2.25, 0.1, std::f64::consts::PI, 1e-7])),
            4 => json!(rng.pick(&[
                "plain",
                "ünïcödé ✓",
                "quote \" backslash \\ newline \n tab \t",
                "😀",
                "",
                "\u{7f}\u{2028}"
            ])),
            5 => json!(rng.percent(50)),
            6 => Value::Null,
            7 if depth < 2 => valid_data(rng, depth + 1),
            _ => json!([1, "two", null, {"three": 3}]),
        };
        map.insert(key.into(), value);
    }
    Value::Object(map)
}
