//! `messagedb-bench`: runs each case for messagedb and for its baseline side by side, in
//! alternating rounds so that machine noise hits both, and prints one JSON line per case on stdout
//! and a summary table on stderr.
//!
//! ```text
//! cargo run --release -p messagedb-bench -- [--quick] [--case NAME]... [--dir PATH]
//!     [--pg-url URL] [--list]
//! ```
//!
//! `--quick` uses small counts and short rounds (a smoke test of a few seconds); `--case` runs only
//! the named cases; `--dir` is where file databases are created (default: the system temp dir);
//! `--pg-url` (or `MESSAGEDB_BENCH_PG_URL`) is a PostgreSQL server for the `pg_*` cases, which
//! each create and drop a database there (skipped with a note when there is none).

mod baseline;
mod cases;
mod concurrent;
mod measure;
mod postgres;
mod report;
mod tail;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use measure::Plan;
use report::Comparison;

/// The error type of the harness: anything that stops a case.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Every case, in the order they run. `write_concurrent_8_file` also reports
/// `write_concurrent_8_file_shared_conn`.
const CASES: &[&str] = &[
    "write_single_memory",
    "write_concurrent_8_file",
    "read_stream_10",
    "read_stream_100",
    "read_category_100",
    "read_category_100_consumer_group",
    "tail_poll_1m",
];

/// Every case name: the SQLite cases, then the PostgreSQL ones.
fn all_cases() -> impl Iterator<Item = &'static str> {
    CASES.iter().chain(postgres::PG_CASES).copied()
}

/// The command line.
struct Args {
    quick: bool,
    cases: Vec<String>,
    dir: PathBuf,
    /// The PostgreSQL server of the `pg_*` cases (`--pg-url`, else the environment).
    pg_url: Option<String>,
}

fn usage() -> String {
    format!(
        "usage: messagedb-bench [--quick] [--case NAME]... [--dir PATH] [--pg-url URL] [--list]\n\
         (the pg_* cases need --pg-url or {})\ncases: {}",
        postgres::PG_URL_ENV,
        all_cases().collect::<Vec<_>>().join(", ")
    )
}

fn parse_args() -> BenchResult<Option<Args>> {
    let mut args = Args {
        quick: false,
        cases: Vec::new(),
        dir: std::env::temp_dir(),
        pg_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--case" => {
                let name = it.next().ok_or_else(usage)?;
                // The shared-connection line comes from the concurrent case.
                let name = name.trim_end_matches("_shared_conn").to_string();
                if !all_cases().any(|c| c == name) {
                    return Err(format!("unknown case '{name}'\n{}", usage()).into());
                }
                args.cases.push(name);
            }
            "--dir" => args.dir = it.next().ok_or_else(usage)?.into(),
            "--pg-url" => args.pg_url = Some(it.next().ok_or_else(usage)?),
            "--list" => {
                println!("{}", all_cases().collect::<Vec<_>>().join("\n"));
                return Ok(None);
            }
            "-h" | "--help" => {
                eprintln!("{}", usage());
                return Ok(None);
            }
            other => return Err(format!("unknown argument '{other}'\n{}", usage()).into()),
        }
    }
    if args.cases.is_empty() {
        args.cases = all_cases().map(String::from).collect();
    }
    if args.pg_url.is_none() {
        args.pg_url = std::env::var(postgres::PG_URL_ENV)
            .ok()
            .filter(|u| !u.is_empty());
    }
    Ok(Some(args))
}

/// The sizes of a run: `--quick` or full.
struct Sizes {
    /// Rounds of the single-threaded cases.
    single: Plan,
    /// Rounds of the concurrent case.
    concurrent: Plan,
    /// `account-*` streams of the read fixture.
    fixture_streams: u64,
    /// Messages in other categories for `tail_poll_1m`.
    tail_others: u64,
    /// The PostgreSQL cases.
    pg: postgres::PgSizes,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        let ms = Duration::from_millis;
        if quick {
            Sizes {
                single: Plan {
                    rounds: 2,
                    round: ms(60),
                    warmup: ms(20),
                },
                concurrent: Plan {
                    rounds: 2,
                    round: ms(200),
                    warmup: ms(50),
                },
                fixture_streams: 200,
                tail_others: 20_000,
                pg: postgres::PgSizes::new(true),
            }
        } else {
            Sizes {
                single: Plan {
                    rounds: 6,
                    round: ms(400),
                    warmup: ms(200),
                },
                concurrent: Plan {
                    rounds: 4,
                    round: ms(1500),
                    warmup: ms(300),
                },
                fixture_streams: 1000,
                tail_others: 1_000_000,
                pg: postgres::PgSizes::new(false),
            }
        }
    }
}

/// Prints a case's lines as soon as it is done and keeps them for the table.
fn emit(results: &mut Vec<Comparison>, done: Vec<Comparison>) -> BenchResult<()> {
    let mut out = std::io::stdout().lock();
    for c in done {
        writeln!(out, "{}", c.to_json_line())?;
        results.push(c);
    }
    out.flush()?;
    Ok(())
}

fn run(args: &Args) -> BenchResult<Vec<Comparison>> {
    let sizes = Sizes::new(args.quick);
    let mut results = Vec::new();
    let mut fixture = None;
    let mut skipped = Vec::new();
    for case in all_cases().filter(|c| args.cases.iter().any(|a| a == c)) {
        if postgres::PG_CASES.contains(&case) && args.pg_url.is_none() {
            skipped.push(case);
            continue;
        }
        eprintln!("running {case}…");
        let done = match case {
            "write_single_memory" => cases::write_single_memory(&sizes.single)?,
            "write_concurrent_8_file" => {
                concurrent::write_concurrent_8_file(&sizes.concurrent, &args.dir)?
            }
            "tail_poll_1m" => vec![tail::tail_poll(case, sizes.tail_others, &sizes.single)?],
            read if cases::READ_CASES.contains(&read) => {
                if fixture.is_none() {
                    fixture = Some(cases::read_fixture(sizes.fixture_streams)?);
                }
                match &fixture {
                    Some(f) => vec![cases::read_case(read, f, &sizes.single)?],
                    None => Vec::new(),
                }
            }
            pg if postgres::PG_CASES.contains(&pg) => match &args.pg_url {
                Some(url) => postgres::run_case(pg, url, &sizes.pg)?,
                None => Vec::new(),
            },
            other => return Err(format!("case '{other}' has no runner").into()),
        };
        emit(&mut results, done)?;
    }
    if !skipped.is_empty() {
        eprintln!(
            "skipped {} (no PostgreSQL server: give --pg-url URL or set {})",
            skipped.join(", "),
            postgres::PG_URL_ENV
        );
    }
    Ok(results)
}

fn main() {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => return,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(results) => report::print_table(&results),
        Err(e) => {
            eprintln!("messagedb-bench: {e}");
            std::process::exit(1);
        }
    }
}
