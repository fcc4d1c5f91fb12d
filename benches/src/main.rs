//! `messagedb-bench`: runs each case for messagedb and for its baseline side by side, in
//! alternating rounds so that machine noise hits both, and prints one JSON line per case on stdout
//! and a summary table on stderr.
//!
//! ```text
//! cargo run --release -p messagedb-bench -- [--quick] [--case NAME]... [--dir PATH] [--list]
//! ```
//!
//! `--quick` uses small counts and short rounds (a smoke test of a few seconds); `--case` runs only
//! the named cases; `--dir` is where file databases are created (default: the system temp dir).

mod baseline;
mod cases;
mod concurrent;
mod measure;
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

/// The command line.
struct Args {
    quick: bool,
    cases: Vec<String>,
    dir: PathBuf,
}

fn usage() -> String {
    format!(
        "usage: messagedb-bench [--quick] [--case NAME]... [--dir PATH] [--list]\ncases: {}",
        CASES.join(", ")
    )
}

fn parse_args() -> BenchResult<Option<Args>> {
    let mut args = Args {
        quick: false,
        cases: Vec::new(),
        dir: std::env::temp_dir(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--case" => {
                let name = it.next().ok_or_else(usage)?;
                // The shared-connection line comes from the concurrent case.
                let name = name.trim_end_matches("_shared_conn").to_string();
                if !CASES.contains(&name.as_str()) {
                    return Err(format!("unknown case '{name}'\n{}", usage()).into());
                }
                args.cases.push(name);
            }
            "--dir" => args.dir = it.next().ok_or_else(usage)?.into(),
            "--list" => {
                println!("{}", CASES.join("\n"));
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
        args.cases = CASES.iter().map(|c| c.to_string()).collect();
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
    for case in CASES.iter().filter(|c| args.cases.iter().any(|a| a == *c)) {
        eprintln!("running {case}…");
        let done = match *case {
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
            other => return Err(format!("case '{other}' has no runner").into()),
        };
        emit(&mut results, done)?;
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
