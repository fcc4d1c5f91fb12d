//! What runs on the caller's thread. Callers poll the store's futures on threads that must not
//! be held for long: a server serving thread (each serves its connections to the end), the JS main
//! thread, an asyncio worker. Work over [`INLINE_ROWS`] rows (a SQLite read's rows past the first
//! 100, the encoding of a long answer) runs on tokio's blocking pool instead; smaller work stays
//! on the caller's thread, where it costs less than a thread handoff. Decided by measurement:
//! `messagedb-bench-reads` and `event_loop_during_large_reads` in `benches/js/bench.ts`.

use std::sync::atomic::{AtomicBool, Ordering};

/// The most rows handled on the caller's thread.
pub const INLINE_ROWS: i64 = 100;

/// Benchmarks compare with everything on the caller's thread.
static ALL_INLINE: AtomicBool = AtomicBool::new(false);

/// Whether work over `rows` rows goes to the blocking pool.
pub fn off_thread(rows: i64) -> bool {
    rows > INLINE_ROWS && !ALL_INLINE.load(Ordering::Relaxed)
}

/// Benchmark support, not an API: whether everything runs on the caller's thread (the baseline
/// of `messagedb-bench-reads` and of the npm package's `event_loop_during_large_reads`).
#[doc(hidden)]
pub fn set_all_inline(all: bool) {
    ALL_INLINE.store(all, Ordering::Relaxed);
}
