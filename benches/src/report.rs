//! Results: one JSON line per case on stdout, and a summary table on stderr.

use serde_json::{Value, json};

use crate::measure::Samples;

/// What the ratio of a case compares, and the bound it must stay within.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// ours cost per operation / baseline cost per operation must be at most this.
    CostAtMost(f64),
    /// ours throughput / baseline throughput must be at least this.
    ThroughputAtLeast(f64),
    /// A throughput ratio reported for information, with no bound.
    ThroughputInfo,
}

impl Target {
    fn kind(self) -> &'static str {
        match self {
            Target::CostAtMost(_) => "cost",
            Target::ThroughputAtLeast(_) | Target::ThroughputInfo => "throughput",
        }
    }

    fn text(self) -> String {
        match self {
            Target::CostAtMost(x) => format!("<= {x}"),
            Target::ThroughputAtLeast(x) => format!(">= {x}"),
            Target::ThroughputInfo => "info".into(),
        }
    }

    fn ratio(self, ours: &Samples, baseline: &Samples) -> f64 {
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        match self {
            Target::CostAtMost(_) => div(ours.cost_us(), baseline.cost_us()),
            Target::ThroughputAtLeast(_) | Target::ThroughputInfo => {
                div(ours.ops_per_sec(), baseline.ops_per_sec())
            }
        }
    }

    fn pass(self, ratio: f64) -> Option<bool> {
        match self {
            Target::CostAtMost(x) => Some(ratio <= x),
            Target::ThroughputAtLeast(x) => Some(ratio >= x),
            Target::ThroughputInfo => None,
        }
    }
}

/// The outcome of one case: our side and its baseline, measured in the same rounds.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The case name.
    pub case: String,
    /// What "ours" ran.
    pub ours_label: String,
    /// What the baseline ran.
    pub baseline_label: String,
    /// Our measurements.
    pub ours: Samples,
    /// The baseline's measurements.
    pub baseline: Samples,
    /// The bound on the ratio.
    pub target: Target,
}

/// Rounds to `digits` decimals (for readable JSON).
fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

impl Comparison {
    /// The ratio the target applies to.
    pub fn ratio(&self) -> f64 {
        self.target.ratio(&self.ours, &self.baseline)
    }

    /// Whether the target is met (`None` for information-only lines).
    pub fn pass(&self) -> Option<bool> {
        self.target.pass(self.ratio())
    }

    /// The JSON line of the case, its fields in a fixed order (case first).
    pub fn to_json_line(&self) -> String {
        let fields: [(&str, Value); 15] = [
            ("case", json!(self.case)),
            ("ours_ops_per_sec", json!(round(self.ours.ops_per_sec(), 1))),
            ("ours_p50_us", json!(round(self.ours.percentile_us(0.5), 2))),
            (
                "ours_p99_us",
                json!(round(self.ours.percentile_us(0.99), 2)),
            ),
            (
                "baseline_ops_per_sec",
                json!(round(self.baseline.ops_per_sec(), 1)),
            ),
            (
                "baseline_p50_us",
                json!(round(self.baseline.percentile_us(0.5), 2)),
            ),
            (
                "baseline_p99_us",
                json!(round(self.baseline.percentile_us(0.99), 2)),
            ),
            ("ratio", json!(round(self.ratio(), 3))),
            ("ratio_kind", json!(self.target.kind())),
            ("target", json!(self.target.text())),
            ("pass", json!(self.pass())),
            ("ours_ops", json!(self.ours.ops())),
            ("baseline_ops", json!(self.baseline.ops())),
            ("ours", json!(self.ours_label)),
            ("baseline", json!(self.baseline_label)),
        ];
        // serde_json's map sorts its keys unless the workspace-wide `preserve_order` feature is
        // on, so the object is written by hand.
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

/// Prints the summary table of every case to stderr.
pub fn print_table(results: &[Comparison]) {
    eprintln!();
    eprintln!(
        "{:<38} {:>12} {:>9} {:>9} {:>12} {:>9} {:>9} {:>8} {:>11} {:>6}",
        "case",
        "ours op/s",
        "p50 us",
        "p99 us",
        "base op/s",
        "p50 us",
        "p99 us",
        "ratio",
        "target",
        "pass"
    );
    for c in results {
        let pass = match c.pass() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        eprintln!(
            "{:<38} {:>12.0} {:>9.2} {:>9.2} {:>12.0} {:>9.2} {:>9.2} {:>8.3} {:>11} {:>6}",
            c.case,
            c.ours.ops_per_sec(),
            c.ours.percentile_us(0.5),
            c.ours.percentile_us(0.99),
            c.baseline.ops_per_sec(),
            c.baseline.percentile_us(0.5),
            c.baseline.percentile_us(0.99),
            c.ratio(),
            format!("{} {}", c.target.kind(), c.target.text()),
            pass
        );
    }
    for c in results {
        eprintln!(
            "  {}: ours = {}; baseline = {}",
            c.case, c.ours_label, c.baseline_label
        );
    }
}
