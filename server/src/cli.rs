//! The command line: `messagedb [serve] [flags]`, `version`, `help`, `export`, `import`, `migrate`.
//! Flags take the forms `--name=value`, `--name value`, `-name=value` and `-name value`; each has
//! the environment fallbacks `MESSAGEDB_<NAME>` and `EVENTODB_<NAME>`; an explicit flag wins.

use clap::{Args, Parser, Subcommand};

/// messagedb: a message store server, wire-compatible with EventoDB.
#[derive(Debug, Parser)]
#[command(
    name = "messagedb",
    version,
    disable_version_flag = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// What to do (serve when only flags are given).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Serve flags given without a sub-command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Print the version.
    Version,
    /// Print this help.
    Help,
    /// Export a namespace to NDJSON.
    Export(ExportCmd),
    /// Import NDJSON into a namespace.
    Import(ImportCmd),
    /// Apply the schema migrations and exit.
    Migrate(ServeArgs),
    /// Run a consumer of a category: print each message as an NDJSON record (the export format)
    /// and record the position as a consumer does (one active instance per name: a second
    /// waits as a standby). SIGINT or SIGTERM stops it cleanly.
    Consume(ConsumeCmd),
}

/// Flags of `consume`.
#[derive(Debug, Args)]
pub struct ConsumeCmd {
    /// postgres://… or sqlite://<dir> [env MESSAGEDB_DB_URL].
    #[arg(long)]
    pub db_url: Option<String>,
    /// The namespace.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// The category ("" = every message of the namespace).
    #[arg(long)]
    pub category: String,
    /// The consumer's name.
    #[arg(long)]
    pub name: String,
    /// Consumer group member (with --size).
    #[arg(long)]
    pub member: Option<i64>,
    /// Consumer group size (with --member).
    #[arg(long)]
    pub size: Option<i64>,
    /// Where to start when no position is recorded: beginning, end, or a global position.
    #[arg(long, default_value = "beginning")]
    pub start: String,
    /// Record the position after this many messages.
    #[arg(long, default_value_t = 100)]
    pub position_update_interval: u64,
    /// Seconds within which a standby takes over.
    #[arg(long, default_value_t = 5.0)]
    pub lease: f64,
    /// Stop (cleanly) after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
}

/// Flags of `serve` (and `migrate`).
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Listen port (0 = any free port) [env MESSAGEDB_PORT, default 8080].
    #[arg(long)]
    pub port: Option<u16>,
    /// Bind address [env MESSAGEDB_HOST, default: every interface].
    #[arg(long)]
    pub host: Option<String>,
    /// In-memory SQLite (without --db-url) and relaxed authentication [env MESSAGEDB_TEST_MODE].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub test_mode: Option<bool>,
    /// The default namespace's token [env MESSAGEDB_TOKEN].
    #[arg(long)]
    pub token: Option<String>,
    /// postgres://… or sqlite://<dir|:memory:> [env MESSAGEDB_DB_URL].
    #[arg(long)]
    pub db_url: Option<String>,
    /// SQLite directory without --db-url [env MESSAGEDB_DATA_DIR, default ./messagedb-data].
    #[arg(long)]
    pub data_dir: Option<String>,
    /// debug, info, warn or error [env MESSAGEDB_LOG_LEVEL, default info].
    #[arg(long)]
    pub log_level: Option<String>,
    /// console or json [env MESSAGEDB_LOG_FORMAT, default console].
    #[arg(long)]
    pub log_format: Option<String>,
    /// Largest RPC body, and largest /import record, in bytes [env MESSAGEDB_MAX_BODY, default 16 MiB].
    #[arg(long)]
    pub max_body: Option<usize>,
    /// PostgreSQL: connections for reads and writes, and again for administration
    /// [env MESSAGEDB_POOL_SIZE, default 16].
    #[arg(long)]
    pub pool_size: Option<u32>,
    /// PostgreSQL: seconds a call waits for a connection before a retryable BACKEND_ERROR
    /// [env MESSAGEDB_ACQUIRE_TIMEOUT, default 30].
    #[arg(long)]
    pub acquire_timeout: Option<f64>,
}

/// Flags of `export`.
#[derive(Debug, Args)]
pub struct ExportCmd {
    /// Server URL.
    #[arg(long)]
    pub url: Option<String>,
    /// Namespace token.
    #[arg(long)]
    pub token: Option<String>,
    /// Only these categories (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub categories: Vec<String>,
    /// Only messages at or after this RFC 3339 time or date.
    #[arg(long)]
    pub since: Option<String>,
    /// Only messages before this RFC 3339 time or date.
    #[arg(long)]
    pub until: Option<String>,
    /// Output file (default stdout).
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    /// Gzip the output.
    #[arg(long)]
    pub gzip: bool,
}

/// Flags of `import`.
#[derive(Debug, Args)]
pub struct ImportCmd {
    /// Server URL.
    #[arg(long)]
    pub url: Option<String>,
    /// Namespace token.
    #[arg(long)]
    pub token: Option<String>,
    /// Input file (default stdin).
    #[arg(long)]
    pub input: Option<std::path::PathBuf>,
    /// The input is gzipped.
    #[arg(long)]
    pub gzip: bool,
    /// Clear the namespace first.
    #[arg(long)]
    pub force: bool,
}

/// Rewrites single-dash long flags (`-port=0`, `-port 0`) as `--port…`, as EventoDB accepts.
pub fn normalize(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            let long = a.len() > 2 && a.starts_with('-') && !a.starts_with("--");
            if i > 0 && long && a.as_bytes()[1].is_ascii_alphabetic() {
                format!("-{a}")
            } else {
                a
            }
        })
        .collect()
}

/// A flag, else `MESSAGEDB_<NAME>`, else `EVENTODB_<NAME>`.
pub fn or_env(flag: Option<String>, name: &str) -> Option<String> {
    flag.or_else(|| std::env::var(format!("MESSAGEDB_{name}")).ok())
        .or_else(|| std::env::var(format!("EVENTODB_{name}")).ok())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(normalize(args.iter().map(|s| s.to_string())))
    }

    #[test]
    fn every_flag_form_parses() {
        for form in [
            &["messagedb", "serve", "--port=0"][..],
            &["messagedb", "serve", "--port", "0"],
            &["messagedb", "serve", "-port=0"],
            &["messagedb", "serve", "-port", "0"],
            &["messagedb", "--port=0"],
            &["messagedb", "-port", "0"],
        ] {
            let cli = parse(form).unwrap_or_else(|e| panic!("{form:?}: {e}"));
            let port = match cli.command {
                Some(Command::Serve(a)) => a.port,
                None => cli.serve.port,
                other => panic!("{other:?}"),
            };
            assert_eq!(port, Some(0), "{form:?}");
        }
        let cli = parse(&["messagedb", "serve", "-test-mode", "-db-url=sqlite://x"]).unwrap();
        let Some(Command::Serve(a)) = cli.command else {
            panic!()
        };
        assert_eq!(
            (a.test_mode, a.db_url.as_deref()),
            (Some(true), Some("sqlite://x"))
        );
    }

    #[test]
    fn unknown_flags_are_refused() {
        let e = parse(&["messagedb", "serve", "--nope=1"]).unwrap_err();
        assert!(e.use_stderr());
        assert_eq!(e.exit_code(), 2);
    }
}
