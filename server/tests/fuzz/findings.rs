//! What a run found: violations grouped into distinct findings, what it covered, the report.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::requests::Req;

struct Violation {
    kind: String,
    group: String,
    status: Option<u16>,
    /// The labels (RPC methods, HTTP methods) it was seen with.
    labels: BTreeSet<String>,
    /// The first request's mutation, excerpt and answer.
    tag: String,
    request: String,
    detail: String,
    count: usize,
}

/// What groups findings: the answer with its numbers blanked, cut short.
fn signature(detail: &str) -> String {
    let mut out = String::new();
    for c in detail.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
        if out.len() >= 90 {
            break;
        }
    }
    out
}

/// A status, or `-` when there was no answer.
fn status_text(status: Option<u16>) -> String {
    status.map_or("-".to_string(), |s| s.to_string())
}

#[derive(Default)]
pub struct Findings {
    distinct: Vec<Violation>,
    index: HashMap<String, usize>,
    pub total: usize,
    pub requests: usize,
    statuses: BTreeMap<u16, usize>,
    /// Statuses per route group: what the run covered.
    coverage: BTreeMap<String, BTreeMap<u16, usize>>,
    pub import_codes: BTreeMap<String, usize>,
}

impl Findings {
    /// Counts an answer of `req` for the report's coverage.
    pub fn count(&mut self, req: &Req, status: u16) {
        *self.statuses.entry(status).or_default() += 1;
        *self
            .coverage
            .entry(req.group.clone())
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    /// Records a violation; those of one kind, route, status and answer (numbers aside) count as
    /// one distinct finding.
    pub fn add(&mut self, kind: &str, req: &Req, status: Option<u16>, detail: impl Into<String>) {
        self.total += 1;
        let detail = detail.into();
        let key = format!(
            "{kind}|{}|{}|{}",
            req.group,
            status_text(status),
            signature(&detail)
        );
        if let Some(&i) = self.index.get(&key) {
            self.distinct[i].count += 1;
            self.distinct[i].labels.insert(req.label.clone());
            return;
        }
        self.index.insert(key, self.distinct.len());
        self.distinct.push(Violation {
            kind: kind.into(),
            group: req.group.clone(),
            status,
            labels: [req.label.clone()].into(),
            tag: req.tag.clone(),
            request: req.excerpt(),
            detail,
            count: 1,
        });
    }

    /// The run's counts and coverage, then at most `limit` distinct findings.
    pub fn report(&self, backend: &str, seed: u64, limit: usize) -> String {
        let mut out = format!(
            "fuzz on {backend} (seed {seed}, MESSAGEDB_FUZZ_SEED={seed:#x}): {} requests, statuses {:?}, import error events {:?}; {} violations, {} distinct\n",
            self.requests,
            self.statuses,
            self.import_codes,
            self.total,
            self.distinct.len()
        );
        for (group, statuses) in &self.coverage {
            out.push_str(&format!("     {group}: {statuses:?}\n"));
        }
        let mut sorted: Vec<&Violation> = self.distinct.iter().collect();
        sorted.sort_by(|a, b| (&a.kind, &a.group, a.status).cmp(&(&b.kind, &b.group, b.status)));
        for (i, v) in sorted.iter().take(limit).enumerate() {
            let mut labels: Vec<&str> = v.labels.iter().map(String::as_str).take(8).collect();
            if v.labels.len() > 8 {
                labels.push("…");
            }
            out.push_str(&format!(
                "{:>3}. [{}] {} — status {} — x{} — seen on: {}\n     e.g. mutation `{}`\n     request: {}\n     got: {}\n",
                i + 1,
                v.kind,
                v.group,
                status_text(v.status),
                v.count,
                labels.join(", "),
                v.tag,
                v.request,
                v.detail
            ));
        }
        if sorted.len() > limit {
            out.push_str(&format!(
                "     … and {} more distinct (all on stderr)\n",
                sorted.len() - limit
            ));
        }
        out
    }
}
