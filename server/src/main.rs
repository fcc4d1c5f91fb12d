//! The `messagedb` binary.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, ServeArgs, or_env};
use messagedb::StoreOptions;
use messagedb_server::transfer::{self, ExportArgs, ImportArgs};
use messagedb_server::{ServeConfig, start};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 1 {
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    }
    if matches!(args[1].as_str(), "--version" | "-v" | "version") && args.len() == 2 {
        println!("{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse_from(cli::normalize(args)) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        None => serve(cli.serve, false),
        Some(Command::Serve(a)) => serve(a, false),
        Some(Command::Migrate(a)) => serve(a, true),
        Some(Command::Version) => {
            println!("{}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(Command::Help) => {
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
        }
        Some(Command::Export(e)) => finish(export(e)),
        Some(Command::Import(i)) => finish(import(i)),
        Some(Command::Consume(c)) => finish(consume(c)),
    }
}

fn finish(result: Result<u64, String>) -> ExitCode {
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("messagedb: {e}");
            ExitCode::FAILURE
        }
    }
}

fn required(value: Option<String>, name: &str, env: &str) -> Result<String, String> {
    or_env(value, env).ok_or_else(|| format!("--{name} is required"))
}

fn time_bound(value: Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    let Some(v) = value else { return Ok(None) };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&v) {
        return Ok(Some(t.to_utc()));
    }
    chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
        .map(|d| Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
        .map_err(|_| format!("'{v}' is not an RFC 3339 time or a YYYY-MM-DD date"))
}

fn export(e: cli::ExportCmd) -> Result<u64, String> {
    let args = ExportArgs {
        url: required(e.url, "url", "URL")?,
        token: required(e.token, "token", "TOKEN")?,
        categories: e.categories,
        since: time_bound(e.since)?,
        until: time_bound(e.until)?,
        output: e.output,
        gzip: e.gzip,
    };
    transfer::export(&args).map_err(|e| e.to_string())
}

fn import(i: cli::ImportCmd) -> Result<u64, String> {
    let args = ImportArgs {
        url: required(i.url, "url", "URL")?,
        token: required(i.token, "token", "TOKEN")?,
        input: i.input,
        gzip: i.gzip,
        force: i.force,
    };
    transfer::import(&args).map_err(|e| e.to_string())
}

/// `messagedb consume`: a consumer printing what it handles. Says `active` on stderr once it is
/// the active instance.
fn consume(c: cli::ConsumeCmd) -> Result<u64, String> {
    use messagedb::consumer::{ConsumerOpts, Start};
    use std::io::Write;
    let url = required(c.db_url, "db-url", "DB_URL")?;
    let start = match c.start.as_str() {
        "beginning" => Start::Beginning,
        "end" => Start::End,
        p => Start::At(p.parse().map_err(|_| format!("invalid start '{p}'"))?),
    };
    let lease = Duration::try_from_secs_f64(c.lease).map_err(|e| format!("invalid lease: {e}"))?;
    let mut opts = ConsumerOpts::new(&c.category, &c.name)
        .map_err(|e| e.to_string())?
        .start(start)
        .position_update_interval(c.position_update_interval)
        .lease(lease);
    if let Some(group) =
        messagedb::ConsumerGroup::from_parts(c.member, c.size).map_err(|e| e.to_string())?
    {
        opts = opts.group(group).map_err(|e| e.to_string())?;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let stop = stop_signal();
        let store = messagedb::Store::open(&url)
            .await
            .map_err(|e| e.to_string())?;
        let ns = store.namespace(&c.namespace);
        let mut stop = std::pin::pin!(stop);
        let mut consumer = tokio::select! {
            () = &mut stop => return Ok(0),
            opened = ns.consumer(opts).open() => opened.map_err(|e| e.to_string())?,
        };
        eprintln!("active");
        let mut handled = 0;
        let mut out = std::io::stdout().lock();
        while c.count.is_none_or(|n| handled < n) {
            let next = tokio::select! {
                biased;
                () = &mut stop => break,
                next = consumer.next() => next.map_err(|e| e.to_string())?,
            };
            let Some(m) = next else { break };
            let record = messagedb::record::Record::of(&m).map_err(|e| e.to_string())?;
            let line = serde_json::to_string(&record).map_err(|e| e.to_string())?;
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(|e| e.to_string())?;
            consumer.ack(&m).await.map_err(|e| e.to_string())?;
            handled += 1;
        }
        consumer.stop().await.map_err(|e| e.to_string())?;
        store.close().await;
        Ok(handled)
    })
}

fn config(a: ServeArgs) -> Result<(ServeConfig, String, String), String> {
    let parse =
        |v: Option<String>, name: &str| -> Result<Option<String>, String> { Ok(or_env(v, name)) };
    let port = match parse(a.port.map(|p| p.to_string()), "PORT")? {
        Some(p) => p.parse().map_err(|_| format!("invalid port '{p}'"))?,
        None => 8080,
    };
    let test_mode = match parse(a.test_mode.map(|t| t.to_string()), "TEST_MODE")? {
        Some(t) => matches!(t.as_str(), "true" | "1" | "yes" | "on"),
        None => false,
    };
    let max_body = match parse(a.max_body.map(|m| m.to_string()), "MAX_BODY")? {
        Some(m) => m.parse().map_err(|_| format!("invalid max body '{m}'"))?,
        None => 16 * 1024 * 1024,
    };
    let mut store_options = StoreOptions::default();
    if let Some(n) = parse(a.pool_size.map(|n| n.to_string()), "POOL_SIZE")? {
        let n: u32 = n.parse().map_err(|_| format!("invalid pool size '{n}'"))?;
        if n == 0 {
            return Err("the pool size must be at least 1".into());
        }
        store_options.pool_size = Some(n);
    }
    if let Some(t) = parse(a.acquire_timeout.map(|t| t.to_string()), "ACQUIRE_TIMEOUT")? {
        let seconds: f64 = t
            .parse()
            .map_err(|_| format!("invalid acquire timeout '{t}'"))?;
        if !(seconds > 0.0 && seconds <= 3600.0) {
            return Err(format!(
                "the acquire timeout must be above 0 and at most 3600 s, not {t}"
            ));
        }
        store_options.acquire_timeout = Some(Duration::from_secs_f64(seconds));
    }
    let config = ServeConfig {
        port,
        host: or_env(a.host, "HOST"),
        test_mode,
        token: or_env(a.token, "TOKEN"),
        db_url: or_env(a.db_url, "DB_URL"),
        data_dir: or_env(a.data_dir, "DATA_DIR").unwrap_or_else(|| "./messagedb-data".into()),
        max_body,
        store_options,
    };
    let level = or_env(a.log_level, "LOG_LEVEL").unwrap_or_else(|| "info".into());
    let format = or_env(a.log_format, "LOG_FORMAT").unwrap_or_else(|| "console".into());
    Ok((config, level, format))
}

fn init_logs(level: &str, format: &str) {
    let filter = tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn serve(args: ServeArgs, migrate_only: bool) -> ExitCode {
    let (config, level, format) = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("messagedb: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(&level, &format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("messagedb: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        if migrate_only {
            let url = config
                .db_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}", config.data_dir));
            return match messagedb::Store::open_with(&url, config.store_options.clone()).await {
                Ok(store) => {
                    store.close().await;
                    println!("migrated {}", messagedb_server::redact_url(&url));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("messagedb: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        // Handle SIGTERM from the moment the port is announced.
        let stop = stop_signal();
        let server = match start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("messagedb: {e}");
                return ExitCode::FAILURE;
            }
        };
        let line = "═".repeat(78);
        println!("backend: {}", server.backend);
        println!("{line}\ndefault namespace token: {}\n{line}", server.token);
        println!("listening on {}", server.url);
        stop.await;
        tracing::info!("stopping");
        server.stop(Duration::from_millis(80)).await;
        ExitCode::SUCCESS
    })
}

/// Resolves on SIGTERM or SIGINT; the handlers are installed when this is called, not when it is
/// first awaited.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::spawn(tokio::signal::ctrl_c());
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt => {}
            }
            return;
        }
        let _ = interrupt.await;
    }
}
