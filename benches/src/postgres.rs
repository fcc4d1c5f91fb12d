//! The PostgreSQL cases, run when a server is given (`--pg-url URL` or `MESSAGEDB_BENCH_PG_URL`).
//! Each case runs in a fresh database created on that server (dropped afterwards), whose
//! `message_store` schema messagedb creates with Message DB 1.3's table and functions.
//!
//! Ours: the public API (`Store::open(url)`, namespace `default`). Baseline: what a Message DB
//! client does, calling the schema's own functions over sqlx on connections that
//! `SET search_path TO message_store` once after connecting (the functions call each other
//! unqualified): `write_message` once per transaction (autocommit), `get_stream_messages` and
//! `get_category_messages` for reads.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use messagedb::{CategoryOpts, GetStreamOpts, Namespace, NewMessage, Store, WriteOpts};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Connection, Row};
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::BenchResult;
use crate::cases::{current_thread_runtime, payload, positions};
use crate::concurrent::{RoundRun, WindowRun, rotate_rounds};
use crate::measure::{Plan, interleave_calls};
use crate::report::{Comparison, Target};

/// The PostgreSQL cases, in the order they run.
pub const PG_CASES: &[&str] = &[
    "pg_write_concurrent_8_100_categories",
    "pg_write_concurrent_8_one_category",
    "pg_read_stream_100",
    "pg_read_category_100",
];

/// The environment variable naming the server when `--pg-url` is not given.
pub const PG_URL_ENV: &str = "MESSAGEDB_BENCH_PG_URL";

/// Concurrent writers of the write cases (tasks on both sides, one connection each for the
/// baseline).
const WRITERS: usize = 8;
/// Ours must write at least this many times the baseline's throughput.
const WRITE_BOUND: f64 = 3.0;
/// Ours must read at most this many times the baseline's cost per read.
const READ_BOUND: f64 = 1.2;
/// Distinct stream ids per category the writers pick from.
const STREAM_IDS: u64 = 1000;
/// Messages per `account-*` stream in the read fixture (also the number of interleaving rounds).
const FIXTURE_ROUNDS: i64 = 20;
/// Messages `reader-1` gets in each fixture round.
const READER_PER_ROUND: i64 = 10;
/// The stream the stream read reads (200 messages).
const READ_STREAM: &str = "reader-1";
/// Messages per read.
const READ_BATCH: i64 = 100;

/// Message DB's write, as a client calls it.
const WRITE_SQL: &str =
    "SELECT message_store.write_message($1::varchar, $2, $3, $4::jsonb, $5::jsonb, $6)";
/// Message DB's stream read.
const STREAM_SQL: &str = "SELECT * FROM message_store.get_stream_messages($1, $2, $3)";
/// Message DB's category read.
const CATEGORY_SQL: &str = "SELECT * FROM message_store.get_category_messages($1, $2, $3)";

/// The read fixture, in Message DB's table: `streams` `account-*` streams of [`FIXTURE_ROUNDS`]
/// messages each, written round-robin (so that a category read sees many streams), with
/// `reader-1` getting [`READER_PER_ROUND`] messages after each round; the same payloads and
/// metadata as the SQLite read fixture. $1 = streams.
const FIXTURE_SQL: &str = "
    INSERT INTO message_store.messages (stream_name, position, type, data, metadata)
    SELECT CASE WHEN k < $1 THEN 'account-' || k ELSE 'reader-1' END,
           CASE WHEN k < $1 THEN r ELSE r * $3 + (k - $1) END,
           'Deposited',
           jsonb_build_object('amount', n, 'currency', 'EUR', 'account', n % 1000,
                              'note', 'benchmark payload'),
           jsonb_build_object('schemaVersion', 1, 'traceId', 'trace-' || n)
    FROM generate_series(0, $2 - 1) AS r
    CROSS JOIN generate_series(0, $1 + $3 - 1) AS k
    CROSS JOIN LATERAL (SELECT r * ($1 + $3) + k + 1 AS n) AS i
    ORDER BY r, k";

/// The sizes of the PostgreSQL cases.
pub struct PgSizes {
    /// Rounds of the write cases.
    pub write: Plan,
    /// Rounds of the read cases.
    pub read: Plan,
    /// `account-*` streams of the read fixture.
    pub fixture_streams: i64,
}

impl PgSizes {
    /// `--quick` (a few seconds for every PostgreSQL case) or full (well under two minutes).
    pub fn new(quick: bool) -> Self {
        let ms = Duration::from_millis;
        if quick {
            PgSizes {
                write: Plan {
                    rounds: 2,
                    round: ms(250),
                    warmup: ms(50),
                },
                read: Plan {
                    rounds: 2,
                    round: ms(80),
                    warmup: ms(20),
                },
                fixture_streams: 200,
            }
        } else {
            PgSizes {
                write: Plan {
                    rounds: 4,
                    round: ms(2000),
                    warmup: ms(500),
                },
                read: Plan {
                    rounds: 6,
                    round: ms(500),
                    warmup: ms(200),
                },
                fixture_streams: 1000,
            }
        }
    }
}

/// Runs one of [`PG_CASES`] in a fresh database on the server of `server_url`.
pub fn run_case(name: &str, server_url: &str, sizes: &PgSizes) -> BenchResult<Vec<Comparison>> {
    let (rt, categories) = match name {
        "pg_write_concurrent_8_100_categories" => (multi_thread_runtime()?, Some(100)),
        "pg_write_concurrent_8_one_category" => (multi_thread_runtime()?, Some(1)),
        "pg_read_stream_100" | "pg_read_category_100" => (current_thread_runtime()?, None),
        other => return Err(format!("unknown PostgreSQL case '{other}'").into()),
    };
    let db = rt.block_on(FreshDb::create(server_url, name))?;
    let result = match categories {
        Some(c) => write_case(name, c, &rt, &db.url, &sizes.write),
        None => read_case(name, &rt, &db.url, sizes),
    };
    // Dropped whatever happened; a failure to drop only warrants a note.
    if let Err(e) = rt.block_on(db.drop(server_url)) {
        eprintln!("{name}: could not drop its database: {e}");
    }
    result.map_err(|e| format!("{name}: {e}").into())
}

fn multi_thread_runtime() -> BenchResult<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A database created for one case.
struct FreshDb {
    name: String,
    /// Its URL: the server URL with the database replaced.
    url: String,
}

impl FreshDb {
    async fn create(server_url: &str, case: &str) -> BenchResult<FreshDb> {
        let name = format!("mdb_bench_{}_{case}", std::process::id());
        let mut admin = PgConnection::connect(server_url).await?;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\"")))
            .execute(&mut admin)
            .await?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = with_database(server_url, &name)?;
        Ok(FreshDb { name, url })
    }

    async fn drop(self, server_url: &str) -> BenchResult<()> {
        let mut admin = PgConnection::connect(server_url).await?;
        // WITH (FORCE) (PostgreSQL 13+) ends connections a failed case may have left open.
        let force = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        if sqlx::raw_sql(AssertSqlSafe(force))
            .execute(&mut admin)
            .await
            .is_err()
        {
            let plain = format!("DROP DATABASE IF EXISTS \"{}\"", self.name);
            sqlx::raw_sql(AssertSqlSafe(plain))
                .execute(&mut admin)
                .await?;
        }
        admin.close().await?;
        Ok(())
    }
}

/// `url` with its database replaced by `database`, and without a `schema=` parameter (the cases
/// use messagedb's default schema, `message_store`, which the baseline names).
fn with_database(url: &str, database: &str) -> BenchResult<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let authority = base
        .find("://")
        .ok_or("the PostgreSQL URL must look like postgres://user@host:port/database")?
        + 3;
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{database}", &base[..path]);
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("schema="))
        .collect();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    Ok(out)
}

/// A baseline connection: connects, then sets the search path as Message DB clients do.
async fn baseline_connection(url: &str) -> BenchResult<PgConnection> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql("SET search_path TO message_store")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// The stream of the `n`-th write of writer `w`: `cat{k}-{id}`, category and id pseudo-random
/// (the same sequence for both sides).
fn stream_of(categories: u64, w: usize, n: u64) -> String {
    // splitmix64 of (writer, n).
    let mut z = ((w as u64) << 40 ^ n).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("cat{}-{}", z % categories, (z / categories) % STREAM_IDS)
}

/// Times the operations of one writer over a window ending at a deadline.
struct Window {
    deadline: Instant,
    t0: Instant,
    run: WindowRun,
}

impl Window {
    fn new(deadline: Instant) -> Self {
        Window {
            deadline,
            t0: Instant::now(),
            run: WindowRun::default(),
        }
    }

    fn start(&mut self) {
        self.t0 = Instant::now();
    }

    /// Records the operation that started at the last [`Window::start`]; false once the
    /// deadline has passed (that operation then only counts for latency).
    fn record(&mut self) -> bool {
        let t1 = Instant::now();
        self.run.latencies.push((t1 - self.t0).as_nanos() as u64);
        if t1 >= self.deadline {
            return false;
        }
        self.run.completed += 1;
        true
    }
}

/// Ours: [`WRITERS`] tasks writing through one store until `duration` has passed.
fn ours_write_round(
    rt: &Runtime,
    ns: &Namespace,
    categories: u64,
    duration: Duration,
) -> WindowRun {
    rt.block_on(async {
        let deadline = Instant::now() + duration;
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let ns = ns.clone();
                tokio::spawn(async move {
                    let mut window = Window::new(deadline);
                    for n in 1u64.. {
                        window.start();
                        let stream = stream_of(categories, w, n);
                        let message =
                            NewMessage::new("Deposited", payload(n)).expect("valid message");
                        let written = ns
                            .write(&stream, message, WriteOpts::default())
                            .await
                            .expect("messagedb write");
                        black_box(written);
                        if !window.record() {
                            break;
                        }
                    }
                    window.run
                })
            })
            .collect();
        let mut all = WindowRun::default();
        for task in tasks {
            all.merge(task.await.expect("writer task"));
        }
        all
    })
}

/// Baseline: [`WRITERS`] tasks, each calling `write_message` on its own connection (autocommit:
/// one transaction per write) until `duration` has passed.
fn baseline_write_round(
    rt: &Runtime,
    conns: &mut Vec<PgConnection>,
    categories: u64,
    duration: Duration,
) -> WindowRun {
    rt.block_on(async {
        let deadline = Instant::now() + duration;
        let tasks: Vec<_> = conns
            .drain(..)
            .enumerate()
            .map(|(w, mut conn)| {
                tokio::spawn(async move {
                    let mut window = Window::new(deadline);
                    for n in 1u64.. {
                        window.start();
                        let stream = stream_of(categories, w, n);
                        let data = serde_json::to_string(&payload(n)).expect("JSON");
                        let position: i64 = sqlx::query_scalar(WRITE_SQL)
                            .bind(Uuid::now_v7().to_string())
                            .bind(&stream)
                            .bind("Deposited")
                            .bind(data)
                            .bind(None::<String>)
                            .bind(None::<i64>)
                            .fetch_one(&mut conn)
                            .await
                            .expect("write_message");
                        black_box(position);
                        if !window.record() {
                            break;
                        }
                    }
                    (conn, window.run)
                })
            })
            .collect();
        let mut all = WindowRun::default();
        for task in tasks {
            let (conn, run) = task.await.expect("writer task");
            conns.push(conn);
            all.merge(run);
        }
        all
    })
}

/// A write case: both sides write to the same `message_store` schema, in alternating windows.
fn write_case(
    name: &str,
    categories: u64,
    rt: &Runtime,
    url: &str,
    plan: &Plan,
) -> BenchResult<Vec<Comparison>> {
    let store = rt.block_on(Store::open(url))?;
    let ns = store.namespace("default");
    let mut conns = rt.block_on(async {
        let mut conns = Vec::with_capacity(WRITERS);
        for _ in 0..WRITERS {
            conns.push(baseline_connection(url).await?);
        }
        BenchResult::Ok(conns)
    })?;
    let mut contenders: [RoundRun<'_>; 2] = [
        Box::new(|d| ours_write_round(rt, &ns, categories, d)),
        Box::new(|d| baseline_write_round(rt, &mut conns, categories, d)),
    ];
    let mut samples = rotate_rounds(plan, &mut contenders).into_iter();
    drop(contenders);
    let (ours, baseline) = match (samples.next(), samples.next()) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err("missing samples".into()),
    };
    rt.block_on(async {
        for conn in conns {
            let _ = conn.close().await;
        }
        store.close().await;
    });
    let spread = if categories == 1 {
        format!("one category, {STREAM_IDS} streams")
    } else {
        format!("{categories} categories x {STREAM_IDS} streams")
    };
    Ok(vec![Comparison {
        case: name.into(),
        ours_label: format!(
            "{WRITERS} tokio tasks (multi-thread runtime) calling Namespace::write through one Store::open(postgres), pseudo-random streams over {spread}"
        ),
        baseline_label: format!(
            "{WRITERS} tokio tasks, one PgConnection each (search_path message_store): SELECT message_store.write_message(...) per write, autocommit; same streams"
        ),
        ours,
        baseline,
        target: Target::ThroughputAtLeast(WRITE_BOUND),
    }])
}

/// A message as Message DB's read functions return it (`message` type: text columns), decoded
/// into owned values as a client would.
#[allow(dead_code)]
#[derive(Debug)]
struct MdbMessage {
    id: String,
    stream_name: String,
    message_type: String,
    position: i64,
    global_position: i64,
    data: Option<String>,
    metadata: Option<String>,
    time: NaiveDateTime,
}

fn decode(row: &PgRow) -> MdbMessage {
    let get = || -> sqlx::Result<MdbMessage> {
        Ok(MdbMessage {
            id: row.try_get(0)?,
            stream_name: row.try_get(1)?,
            message_type: row.try_get(2)?,
            position: row.try_get(3)?,
            global_position: row.try_get(4)?,
            data: row.try_get(5)?,
            metadata: row.try_get(6)?,
            time: row.try_get(7)?,
        })
    };
    get().expect("a message row")
}

/// A read case over the fixture: ours and the baseline read the same page, in alternating rounds.
fn read_case(name: &str, rt: &Runtime, url: &str, sizes: &PgSizes) -> BenchResult<Vec<Comparison>> {
    let store = rt.block_on(Store::open(url))?;
    let ns = store.namespace("default");
    let mut conn = rt.block_on(baseline_connection(url))?;
    let started = Instant::now();
    let (filled, last) = rt.block_on(async {
        let filled = sqlx::query(FIXTURE_SQL)
            .bind(sizes.fixture_streams)
            .bind(FIXTURE_ROUNDS)
            .bind(READER_PER_ROUND)
            .execute(&mut conn)
            .await?
            .rows_affected();
        sqlx::raw_sql("ANALYZE message_store.messages")
            .execute(&mut conn)
            .await?;
        let last: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(global_position), 0) FROM message_store.messages",
        )
        .fetch_one(&mut conn)
        .await?;
        BenchResult::Ok((filled, last))
    })?;
    eprintln!(
        "{name}: fixture of {filled} messages in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let middle = last / 2;

    let mut stream_opts = GetStreamOpts::default();
    stream_opts.position = Some(0);
    stream_opts.batch_size = Some(READ_BATCH);
    let mut category_opts = CategoryOpts::default();
    category_opts.position = Some(middle);
    category_opts.batch_size = Some(READ_BATCH);
    let stream = name == "pg_read_stream_100";

    let ours = || {
        let page = if stream {
            rt.block_on(ns.get_stream(READ_STREAM, &stream_opts))
        } else {
            rt.block_on(ns.get_category("account", &category_opts))
        };
        positions(
            page.expect("messagedb read")
                .iter()
                .map(|m| m.global_position),
        )
    };
    let mut base = || {
        let query = if stream {
            sqlx::query(STREAM_SQL).bind(READ_STREAM).bind(0i64)
        } else {
            sqlx::query(CATEGORY_SQL).bind("account").bind(middle)
        };
        let rows = rt
            .block_on(query.bind(READ_BATCH).fetch_all(&mut conn))
            .expect("Message DB read");
        let page: Vec<MdbMessage> = rows.iter().map(decode).collect();
        positions(page.iter().map(|m| m.global_position))
    };
    // Both sides must return the same messages, a full batch.
    let (a, b) = (ours(), base());
    if a != b || a.0 as i64 != READ_BATCH {
        return Err(format!(
            "ours returned {} messages, the baseline {} (expected {READ_BATCH}); same: {}",
            a.0,
            b.0,
            a == b
        )
        .into());
    }
    let (ours_samples, base_samples) = interleave_calls(&sizes.read, ours, &mut base);
    rt.block_on(async {
        let _ = conn.close().await;
        store.close().await;
    });
    let (ours_label, baseline_label) = if stream {
        (
            format!(
                "Namespace::get_stream('{READ_STREAM}') from position 0, batch {READ_BATCH}, current-thread block_on"
            ),
            format!(
                "one PgConnection: SELECT * FROM message_store.get_stream_messages('{READ_STREAM}', 0, {READ_BATCH}), rows decoded"
            ),
        )
    } else {
        (
            format!(
                "Namespace::get_category('account') from global position {middle} of {last}, batch {READ_BATCH}, current-thread block_on"
            ),
            format!(
                "one PgConnection: SELECT * FROM message_store.get_category_messages('account', {middle}, {READ_BATCH}), rows decoded"
            ),
        )
    };
    Ok(vec![Comparison {
        case: name.into(),
        ours_label,
        baseline_label,
        ours: ours_samples,
        baseline: base_samples,
        target: Target::CostAtMost(READ_BOUND),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_the_case_database() {
        let url = |u| with_database(u, "db").expect("URL");
        assert_eq!(
            url("postgres://u@h:5432/postgres"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(url("postgres://u@h"), "postgres://u@h/db");
        assert_eq!(
            url("postgresql://u:p@h/x?sslmode=disable&schema=s"),
            "postgresql://u:p@h/db?sslmode=disable"
        );
    }

    #[test]
    fn streams_spread_over_the_categories() {
        let cats: std::collections::HashSet<String> = (0..2000)
            .map(|n| stream_of(100, (n % 8) as usize, n))
            .map(|s| s.split('-').next().unwrap_or("").to_string())
            .collect();
        assert_eq!(cats.len(), 100);
        assert!(stream_of(1, 3, 7).starts_with("cat0-"));
    }
}
