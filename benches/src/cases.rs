//! The single-threaded cases on SQLite in memory: sequential writes, stream reads and category
//! reads, each against the plain-rusqlite baseline doing the same SQL work.

use std::hint::black_box;

use messagedb::{
    CategoryOpts, ConsumerGroup, GetStreamOpts, Namespace, NewMessage, Store, WriteOpts,
};
use rusqlite::Connection;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::BenchResult;
use crate::baseline;
use crate::measure::{Plan, interleave, interleave_calls};
use crate::report::{Comparison, Target};

/// Streams the sequential writes rotate over.
const WRITE_STREAMS: u64 = 100;
/// The bound of the single-threaded cases: ours at most 1.3x the baseline's cost per operation.
const COST_BOUND: f64 = 1.3;
/// The stream the stream reads read.
const READ_STREAM: &str = "reader-1";
/// Messages per `account-*` stream in the read fixture (also the number of interleaving rounds).
const FIXTURE_ROUNDS: u64 = 20;
/// Messages `reader-1` gets in each fixture round.
const READER_PER_ROUND: u64 = 10;

/// A current-thread runtime, as a binding would use to drive one call at a time.
pub fn current_thread_runtime() -> BenchResult<Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The payload of the `i`-th benchmark message (about 80 bytes of JSON).
pub fn payload(i: u64) -> Value {
    json!({"amount": i, "currency": "EUR", "account": i % 1000, "note": "benchmark payload"})
}

/// The metadata of the read fixture's messages.
fn fixture_metadata(i: u64) -> Value {
    json!({"schemaVersion": 1, "traceId": format!("trace-{i}")})
}

/// `write_single_memory`: one writer, sequential single-message writes to a database in memory.
/// Both sides build the message (JSON encoding, UUIDv7) inside the timed loop.
pub fn write_single_memory(plan: &Plan) -> BenchResult<Vec<Comparison>> {
    let rt = current_thread_runtime()?;
    let store = rt.block_on(Store::open("sqlite::memory:"))?;
    let ns = store.namespace("default");
    let conn = baseline::open(None)?;

    let mut i = 0u64;
    let mut ours = || {
        i += 1;
        let stream = format!("account-{}", i % WRITE_STREAMS);
        let message = NewMessage::new("Deposited", payload(i)).expect("valid message");
        let written = rt
            .block_on(ns.write(&stream, message, WriteOpts::default()))
            .expect("messagedb write");
        black_box(written);
    };
    let mut j = 0u64;
    let mut base = || {
        j += 1;
        let stream = format!("account-{}", j % WRITE_STREAMS);
        let data = serde_json::to_string(&payload(j)).expect("JSON");
        let written = baseline::write(&conn, &stream, "Deposited", &data, None, None)
            .expect("baseline write");
        black_box(written);
    };
    let (ours_samples, base_samples) = interleave(plan, &mut ours, &mut base);
    Ok(vec![Comparison {
        case: "write_single_memory".into(),
        ours_label: "Namespace::write, one message, no expected version, current-thread block_on"
            .into(),
        baseline_label: "rusqlite in memory: BEGIN IMMEDIATE, max(position), INSERT, COMMIT".into(),
        ours: ours_samples,
        baseline: base_samples,
        target: Target::CostAtMost(COST_BOUND),
    }])
}

/// The same messages in our store and in a baseline database, both in memory.
pub struct ReadFixture {
    rt: Runtime,
    /// Kept open for the namespace.
    _store: Store,
    ns: Namespace,
    conn: Connection,
    /// Global position of the last message.
    last_global_position: i64,
}

/// Fills both databases with the same messages in the same order: `streams` `account-*` streams
/// of [`FIXTURE_ROUNDS`] messages each, written round-robin (so a category read sees many
/// streams), and `reader-1` with 200 messages spread among them.
pub fn read_fixture(streams: u64) -> BenchResult<ReadFixture> {
    let rt = current_thread_runtime()?;
    let store = rt.block_on(Store::open("sqlite::memory:"))?;
    let ns = store.namespace("default");
    let conn = baseline::open(None)?;
    conn.execute_batch("BEGIN")?;
    let mut i = 0u64;
    let mut last_ours = 0;
    let mut last_base = 0;
    for _ in 0..FIXTURE_ROUNDS {
        let names = (0..streams)
            .map(|s| format!("account-{s}"))
            .chain((0..READER_PER_ROUND).map(|_| READ_STREAM.to_string()));
        for stream in names {
            i += 1;
            let message =
                NewMessage::new("Deposited", payload(i))?.with_metadata(fixture_metadata(i))?;
            last_ours = rt
                .block_on(ns.write(&stream, message, WriteOpts::default()))?
                .global_position;
            let data = serde_json::to_string(&payload(i))?;
            let metadata = serde_json::to_string(&fixture_metadata(i))?;
            last_base =
                baseline::insert(&conn, &stream, "Deposited", &data, Some(&metadata), None)?.1;
        }
    }
    conn.execute_batch("COMMIT")?;
    if last_ours != last_base {
        return Err(
            format!("fixtures differ: last global position {last_ours} vs {last_base}").into(),
        );
    }
    Ok(ReadFixture {
        rt,
        _store: store,
        ns,
        conn,
        last_global_position: last_ours,
    })
}

/// A read both sides run: what it asks for, in each side's terms.
enum Read {
    Stream {
        batch: i64,
    },
    Category {
        position: i64,
        batch: i64,
        group: Option<(i64, i64)>,
    },
}

/// The read cases this module knows, by name.
pub const READ_CASES: &[&str] = &[
    "read_stream_10",
    "read_stream_100",
    "read_category_100",
    "read_category_100_consumer_group",
];

/// One side of a read case: reads a page and returns [`positions`] of it.
type PageRead<'a> = Box<dyn FnMut() -> (usize, i64) + 'a>;

/// Both sides of a read case, with what each one runs.
struct ReadSides<'a> {
    ours: PageRead<'a>,
    base: PageRead<'a>,
    ours_label: String,
    baseline_label: String,
}

/// Builds both sides of `read` over the fixture.
fn read_sides(read: Read, fixture: &ReadFixture) -> BenchResult<ReadSides<'_>> {
    let ReadFixture { rt, ns, conn, .. } = fixture;
    Ok(match read {
        Read::Stream { batch } => {
            let mut opts = GetStreamOpts::default();
            opts.position = Some(0);
            opts.batch_size = Some(batch);
            ReadSides {
                ours: Box::new(move || {
                    let page = rt
                        .block_on(ns.get_stream(READ_STREAM, &opts))
                        .expect("get_stream");
                    positions(page.iter().map(|m| m.global_position))
                }),
                base: Box::new(move || {
                    let page = baseline::get_stream(conn, READ_STREAM, 0, batch).expect("baseline");
                    positions(page.iter().map(|m| m.global_position))
                }),
                ours_label: format!("Namespace::get_stream from position 0, batch {batch}"),
                baseline_label: format!(
                    "rusqlite prepare_cached stream SELECT, LIMIT {batch}, rows decoded"
                ),
            }
        }
        Read::Category {
            position,
            batch,
            group,
        } => {
            let mut opts = CategoryOpts::default();
            opts.position = Some(position);
            opts.batch_size = Some(batch);
            if let Some((member, size)) = group {
                opts.consumer_group = Some(ConsumerGroup::new(member, size)?);
            }
            let group_text = group.map_or(String::new(), |(m, s)| format!(", member {m} of {s}"));
            ReadSides {
                ours: Box::new(move || {
                    let page = rt
                        .block_on(ns.get_category("account", &opts))
                        .expect("get_category");
                    positions(page.iter().map(|m| m.global_position))
                }),
                base: Box::new(move || {
                    let page = baseline::get_category(conn, "account", position, batch, group)
                        .expect("baseline");
                    positions(page.iter().map(|m| m.global_position))
                }),
                ours_label: format!(
                    "Namespace::get_category from global position {position}, batch {batch}{group_text}"
                ),
                baseline_label: format!(
                    "rusqlite prepare_cached category SELECT, LIMIT {batch}{group_text}, rows decoded"
                ),
            }
        }
    })
}

/// Runs one of [`READ_CASES`] on the fixture.
pub fn read_case(name: &str, fixture: &ReadFixture, plan: &Plan) -> BenchResult<Comparison> {
    let middle = fixture.last_global_position / 2;
    let (read, expected) = match name {
        "read_stream_10" => (Read::Stream { batch: 10 }, 10),
        "read_stream_100" => (Read::Stream { batch: 100 }, 100),
        "read_category_100" => (
            Read::Category {
                position: middle,
                batch: 100,
                group: None,
            },
            100,
        ),
        "read_category_100_consumer_group" => (
            Read::Category {
                position: middle,
                batch: 100,
                group: Some((0, 2)),
            },
            100,
        ),
        other => return Err(format!("unknown read case '{other}'").into()),
    };
    let ReadSides {
        mut ours,
        mut base,
        ours_label,
        baseline_label,
    } = read_sides(read, fixture)?;
    // Both sides must return the same messages, a full batch.
    let (a, b) = (ours(), base());
    if a != b || a.0 as i64 != expected {
        return Err(format!(
            "{name}: ours returned {} messages, the baseline {} (expected {expected}); same: {}",
            a.0,
            b.0,
            a == b
        )
        .into());
    }
    let (ours_samples, base_samples) = interleave_calls(plan, &mut *ours, &mut *base);
    Ok(Comparison {
        case: name.into(),
        ours_label,
        baseline_label,
        ours: ours_samples,
        baseline: base_samples,
        target: Target::CostAtMost(COST_BOUND),
    })
}

/// How many messages a page holds and the sum of their global positions, to check that both
/// sides return the same messages without allocating in the timed loop. Dropping the page is part
/// of each side's cost.
pub(crate) fn positions(page: impl Iterator<Item = i64>) -> (usize, i64) {
    page.fold((0, 0), |(n, sum), gp| (n + 1, sum + gp))
}
