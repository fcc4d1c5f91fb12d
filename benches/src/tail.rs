//! `tail_poll_1m`: polling a small category past its end in a namespace whose other categories
//! hold many later messages must stay an index lookup. Both sides are ours: the poll (0 rows)
//! against a one-message read from inside the category.

use std::time::Instant;

use messagedb::{CategoryOpts, NewMessage, Store, WriteOpts};

use crate::BenchResult;
use crate::cases::{current_thread_runtime, payload};
use crate::measure::{Plan, interleave_calls};
use crate::report::{Comparison, Target};

/// Messages of the small category, written first (global positions 1..=10).
const SMALL_MESSAGES: i64 = 10;
/// Messages per `write_batch` call when filling the other categories.
const FILL_BATCH: u64 = 1000;
/// Categories the filler messages are spread over.
const FILL_CATEGORIES: u64 = 10;
/// The poll must cost at most this many times the one-message read.
const COST_BOUND: f64 = 2.0;

/// Runs the case with `others` messages in other categories (rounded down to whole batches).
pub fn tail_poll(name: &str, others: u64, plan: &Plan) -> BenchResult<Comparison> {
    let rt = current_thread_runtime()?;
    let store = rt.block_on(Store::open("sqlite::memory:"))?;
    let ns = store.namespace("default");
    for i in 0..SMALL_MESSAGES {
        let message = NewMessage::new("Noted", payload(i as u64))?;
        rt.block_on(ns.write(&format!("small-{}", i % 2), message, WriteOpts::default()))?;
    }
    let started = Instant::now();
    let mut filled = 0;
    for b in 0..others / FILL_BATCH {
        let messages = (0..FILL_BATCH)
            .map(|k| NewMessage::new("Filled", payload(b * FILL_BATCH + k)))
            .collect::<messagedb::Result<Vec<_>>>()?;
        let stream = format!("other{}-{b}", b % FILL_CATEGORIES);
        filled = rt
            .block_on(ns.write_batch(&stream, messages, WriteOpts::default()))?
            .last_global_position;
    }
    eprintln!(
        "{name}: filled {} messages in other categories in {:.1}s",
        filled - SMALL_MESSAGES,
        started.elapsed().as_secs_f64()
    );

    let mut poll = CategoryOpts::default();
    poll.position = Some(SMALL_MESSAGES + 1);
    poll.batch_size = Some(100);
    let mut one = CategoryOpts::default();
    one.position = Some(SMALL_MESSAGES / 2);
    one.batch_size = Some(1);
    let ours = || rt.block_on(ns.get_category("small", &poll)).expect("poll");
    let base = || rt.block_on(ns.get_category("small", &one)).expect("read");
    let (polled, read) = (ours().len(), base().len());
    if polled != 0 || read != 1 {
        return Err(format!(
            "{name}: the poll returned {polled} messages (expected 0), the read {read} (expected 1)"
        )
        .into());
    }
    let (ours_samples, base_samples) = interleave_calls(plan, &ours, &base);
    Ok(Comparison {
        case: name.into(),
        ours_label: format!(
            "get_category('small') from global position {} (past its end; {} later messages in other categories), batch 100, 0 rows",
            SMALL_MESSAGES + 1,
            filled - SMALL_MESSAGES
        ),
        baseline_label: format!(
            "ours: get_category('small') from global position {}, batch 1, 1 row",
            SMALL_MESSAGES / 2
        ),
        ours: ours_samples,
        baseline: base_samples,
        target: Target::CostAtMost(COST_BOUND),
    })
}
