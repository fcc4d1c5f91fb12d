//! Benchmarks (not written yet).
fn main() {}
