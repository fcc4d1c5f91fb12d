//! Timing: latency samples, their statistics, and interleaved rounds of two contenders.

use std::time::{Duration, Instant};

/// How long each contender runs: a warm-up, then several alternating rounds.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Alternating rounds per contender (the order flips every round).
    pub rounds: usize,
    /// How long one contender runs in one round.
    pub round: Duration,
    /// Untimed run of each contender before the first round.
    pub warmup: Duration,
}

/// The latencies of a run and the wall time they took.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// One latency per operation, in nanoseconds.
    latencies: Vec<u64>,
    /// Operations that count for throughput: those completed inside the measured wall time.
    counted: usize,
    /// Wall time of the measured runs, summed over rounds.
    elapsed: Duration,
}

impl Samples {
    /// Adds a sequential run: its per-operation latencies and the wall time they add up to.
    pub fn add(&mut self, latencies: Vec<u64>, elapsed: Duration) {
        self.counted += latencies.len();
        self.latencies.extend(latencies);
        self.elapsed += elapsed;
    }

    /// Adds a concurrent run over a fixed window: every latency, and the `counted` operations that
    /// completed inside the `window` (the ones still running at its end only count for latency).
    pub fn add_window(&mut self, latencies: Vec<u64>, counted: usize, window: Duration) {
        self.counted += counted;
        self.latencies.extend(latencies);
        self.elapsed += window;
    }

    /// How many operations were measured.
    pub fn ops(&self) -> usize {
        self.latencies.len()
    }

    /// Operations per second of wall time (all concurrent workers together).
    pub fn ops_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.counted as f64 / secs
        } else {
            0.0
        }
    }

    /// Wall time per operation in microseconds (the inverse of [`Samples::ops_per_sec`]).
    pub fn cost_us(&self) -> f64 {
        match self.counted {
            0 => 0.0,
            n => self.elapsed.as_secs_f64() * 1e6 / n as f64,
        }
    }

    /// The nearest-rank percentile `q` (0..=1) of the latencies, in microseconds.
    pub fn percentile_us(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 1e3
    }
}

/// Runs `op` repeatedly until `duration` has passed; returns each call's latency in nanoseconds.
///
/// One clock read per operation: the end of one call starts the next, so the latencies add up to
/// the wall time of the loop.
pub fn run_for(duration: Duration, op: &mut dyn FnMut()) -> Vec<u64> {
    let mut latencies = Vec::with_capacity(1 << 16);
    let start = Instant::now();
    let deadline = start + duration;
    let mut t0 = start;
    loop {
        op();
        let t1 = Instant::now();
        latencies.push((t1 - t0).as_nanos() as u64);
        if t1 >= deadline {
            return latencies;
        }
        t0 = t1;
    }
}

/// [`interleave`] of two calls whose results are kept from the optimizer and dropped.
pub fn interleave_calls<A, B>(
    plan: &Plan,
    mut ours: impl FnMut() -> A,
    mut baseline: impl FnMut() -> B,
) -> (Samples, Samples) {
    interleave(
        plan,
        &mut || {
            std::hint::black_box(ours());
        },
        &mut || {
            std::hint::black_box(baseline());
        },
    )
}

/// Runs two single-threaded contenders in alternating rounds so that machine noise hits both.
pub fn interleave(
    plan: &Plan,
    ours: &mut dyn FnMut(),
    baseline: &mut dyn FnMut(),
) -> (Samples, Samples) {
    run_for(plan.warmup, ours);
    run_for(plan.warmup, baseline);
    let (mut a, mut b) = (Samples::default(), Samples::default());
    for round in 0..plan.rounds {
        let run = |op: &mut dyn FnMut(), into: &mut Samples| {
            let latencies = run_for(plan.round, op);
            let elapsed = Duration::from_nanos(latencies.iter().sum());
            into.add(latencies, elapsed);
        };
        if round % 2 == 0 {
            run(ours, &mut a);
            run(baseline, &mut b);
        } else {
            run(baseline, &mut b);
            run(ours, &mut a);
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut s = Samples::default();
        s.add(
            (1..=100).map(|i| i * 1000).collect(),
            Duration::from_millis(5),
        );
        assert_eq!(s.percentile_us(0.5), 50.0);
        assert_eq!(s.percentile_us(0.99), 99.0);
        assert_eq!(s.percentile_us(1.0), 100.0);
        assert_eq!(s.ops(), 100);
        assert!((s.ops_per_sec() - 20_000.0).abs() < 1e-6);
        assert!((s.cost_us() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn windowed_runs_count_only_completed_operations() {
        let mut s = Samples::default();
        s.add_window(vec![1000; 10], 8, Duration::from_secs(2));
        assert_eq!(s.ops(), 10);
        assert!((s.ops_per_sec() - 4.0).abs() < 1e-9);
    }
}
