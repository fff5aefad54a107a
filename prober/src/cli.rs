//! The command line: `serve` and `run`. Parsing here, work in the library.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};
use serde::Serialize;
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

use crate::log;
use crate::plan::Plan;
use crate::run::run_plan_streaming;
use crate::serve::{serve, ServeConfig, ServeError};

/// Exit status: every check ran (timeouts included), or the server stopped on request.
pub const EXIT_OK: i32 = 0;
/// Exit status: bad usage or a bad plan.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: the environment failed (a port cannot be bound, stdout is gone, ...).
pub const EXIT_ENV: i32 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "netpol-prober",
    version,
    about = "The kubectl-netpol prober agent: listens on ports, and probes them with real packets",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Listen on TCP, UDP (echo) and SCTP ports, and optionally answer DNS, until stopped.
    ///
    /// Prints one JSON line once every listener is bound:
    /// {"ready":true,"listening":["tcp/80",...],"unsupported":["sctp/80"]}
    Serve(ServeArgs),
    /// Run a probe plan; print one JSON result per check, as each completes.
    Run(RunArgs),
    /// Keep probing: read a stream plan (one JSON line) from stdin, fire its checks with new
    /// connections every interval and exercise its flows (kept open), printing one JSON line
    /// per result, until stdin closes.
    Stream,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TCP ports to accept connections on (accepted, then closed).
    #[arg(long, value_delimiter = ',', value_name = "PORT,...")]
    tcp: Vec<u16>,
    /// UDP ports to echo datagrams on.
    #[arg(long, value_delimiter = ',', value_name = "PORT,...")]
    udp: Vec<u16>,
    /// SCTP ports to accept associations on (reported unsupported without kernel SCTP).
    #[arg(long, value_delimiter = ',', value_name = "PORT,...")]
    sctp: Vec<u16>,
    /// Address to listen on; `::` is dual stack.
    #[arg(long, default_value = "0.0.0.0", value_name = "ADDR")]
    bind: IpAddr,
    /// Answer DNS for NAME with IP (A or AAAA); repeatable.
    #[arg(long = "dns-record", value_name = "NAME=IP", value_parser = parse_dns_record)]
    dns_records: Vec<(String, IpAddr)>,
    /// Port of the DNS server (UDP and TCP).
    #[arg(
        long,
        value_name = "PORT",
        requires = "dns_records",
        default_value_t = 53
    )]
    dns_port: u16,
    /// Exit when stdin closes, so the server dies with whoever started it.
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Also probe from the first instant, while serving: a stream plan (JSON, as `stream`
    /// reads it); its results follow the ready line on stdout (`probe --new-pod`).
    #[arg(long, value_name = "JSON")]
    stream_plan: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["plan", "plan_json"])))]
struct RunArgs {
    /// The plan file, or - for stdin.
    #[arg(long, value_name = "FILE|-")]
    plan: Option<PathBuf>,
    /// The plan itself, as JSON.
    #[arg(long, value_name = "JSON")]
    plan_json: Option<String>,
}

fn parse_dns_record(text: &str) -> Result<(String, IpAddr), String> {
    let (name, ip) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=IP"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{text:?} has no name"));
    }
    crate::dns_server::normalize(name)
        .map_err(|err| format!("{name:?} is not a DNS name: {err}"))?;
    let ip = ip
        .trim()
        .parse()
        .map_err(|_| format!("{ip:?} is not an IP address"))?;
    Ok((name.to_string(), ip))
}

/// Runs the prober command line (`args` starts with the program name) and returns the exit
/// status: 0 success, 2 bad usage or plan, 3 environment error. Output goes to stdout.
pub fn cli_main(args: impl IntoIterator<Item = OsString>) -> i32 {
    cli_main_with_stdout(args, io::stdout())
}

/// [`cli_main`], writing the JSON lines to `stdout` instead of the process's standard output.
pub fn cli_main_with_stdout<W: Write + Send>(
    args: impl IntoIterator<Item = OsString>,
    mut stdout: W,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return err.exit_code();
        }
    };
    match cli.command {
        Command::Run(args) => run_command(args, &mut stdout),
        Command::Serve(args) => serve_command(args, &mut stdout),
        Command::Stream => stream_command(&mut stdout),
    }
}

fn run_command<W: Write + Send>(args: RunArgs, stdout: &mut W) -> i32 {
    let (source, text) = match (&args.plan, args.plan_json) {
        (_, Some(json)) => ("--plan-json".to_string(), Ok(json)),
        (Some(path), None) if path.as_os_str() == "-" => {
            let mut text = String::new();
            let read = io::stdin().read_to_string(&mut text).map(|_| text);
            ("stdin".to_string(), read)
        }
        (Some(path), None) => (path.display().to_string(), std::fs::read_to_string(path)),
        (None, None) => ("the command line".to_string(), Ok(String::new())),
    };
    let text = match text {
        Ok(text) => text,
        Err(err) => {
            log(&format!("cannot read the plan from {source}: {err}"));
            return EXIT_USAGE;
        }
    };
    let plan = match Plan::from_json(&text) {
        Ok(plan) => plan,
        Err(err) => {
            log(&format!("bad plan ({source}): {err}"));
            return EXIT_USAGE;
        }
    };
    let outcome = with_runtime(|runtime| {
        runtime.block_on(async {
            let mut write_error = None;
            run_plan_streaming(&plan, |_, result| match write_json_line(stdout, &result) {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => {
                    write_error = Some(err);
                    ControlFlow::Break(())
                }
            })
            .await;
            write_error
        })
    });
    match outcome {
        Ok(None) => EXIT_OK,
        Ok(Some(err)) => {
            log(&format!("cannot write results: {err}"));
            EXIT_ENV
        }
        Err(err) => {
            log(&format!("cannot start the async runtime: {err}"));
            EXIT_ENV
        }
    }
}

fn stream_command<W: Write + Send>(stdout: &mut W) -> i32 {
    let mut line = String::new();
    if let Err(err) = io::stdin().read_line(&mut line) {
        log(&format!("cannot read the stream plan from stdin: {err}"));
        return EXIT_USAGE;
    }
    let plan = match crate::stream::StreamPlan::from_json(&line) {
        Ok(plan) => plan,
        Err(err) => {
            log(&format!("bad stream plan (stdin): {err}"));
            return EXIT_USAGE;
        }
    };
    let outcome = with_runtime(|runtime| {
        runtime.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let run = crate::stream::run_stream(plan, tx, stdin_eof());
            tokio::pin!(run);
            let mut done = false;
            loop {
                tokio::select! {
                    r = rx.recv() => match r {
                        Some(r) => {
                            if let Err(err) = write_json_line(stdout, &r) {
                                return Some(err);
                            }
                        }
                        None => return None,
                    },
                    _ = &mut run, if !done => done = true,
                }
                if done {
                    return None;
                }
            }
        })
    });
    match outcome {
        Ok(None) => EXIT_OK,
        Ok(Some(err)) => {
            log(&format!("cannot write results: {err}"));
            EXIT_ENV
        }
        Err(err) => {
            log(&format!("cannot start the async runtime: {err}"));
            EXIT_ENV
        }
    }
}

fn serve_command<W: Write + Send>(args: ServeArgs, stdout: &mut W) -> i32 {
    let config = ServeConfig {
        bind: args.bind,
        tcp: args.tcp,
        udp: args.udp,
        sctp: args.sctp,
        dns_port: Some(args.dns_port),
        dns_records: args.dns_records,
    };
    let exit_on_stdin_eof = args.exit_on_stdin_eof;
    let stream_plan = match args
        .stream_plan
        .as_deref()
        .map(crate::stream::StreamPlan::from_json)
        .transpose()
    {
        Ok(plan) => plan,
        Err(err) => {
            log(&format!("bad --stream-plan: {err}"));
            return EXIT_USAGE;
        }
    };
    let outcome = with_runtime(|runtime| {
        runtime.block_on(async {
            let (mut terminate, mut interrupt) = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
                (Err(err), _) | (_, Err(err)) => {
                    log(&format!("cannot handle signals: {err}"));
                    return EXIT_ENV;
                }
            };
            let stdin_closed = async {
                if exit_on_stdin_eof {
                    stdin_eof().await
                } else {
                    std::future::pending().await
                }
            };
            let out = std::cell::RefCell::new(stdout);
            let ready = std::cell::Cell::new(false);
            let announce = |report| {
                if let Err(err) = write_json_line(&mut **out.borrow_mut(), &report) {
                    log(&format!("cannot write the ready line: {err}"));
                }
                ready.set(true);
            };
            let streaming = stream_after_ready(stream_plan, &out, &ready);
            tokio::select! {
                // Serve first: its first poll binds every port, so a bind error wins over an
                // already closed stdin.
                biased;
                served = serve(config, announce) => {
                    let Err(err) = served;
                    log(&err.to_string());
                    match err {
                        ServeError::DnsRecord { .. } => EXIT_USAGE,
                        _ => EXIT_ENV,
                    }
                }
                _ = terminate.recv() => EXIT_OK,
                _ = interrupt.recv() => EXIT_OK,
                () = stdin_closed => EXIT_OK,
                () = streaming => EXIT_OK,
            }
        })
    });
    outcome.unwrap_or_else(|err| {
        log(&format!("cannot start the async runtime: {err}"));
        EXIT_ENV
    })
}

/// Runs the stream plan (if any) from the first instant; its lines wait for the ready line.
/// Never returns without a plan; with one, when stdout is gone.
async fn stream_after_ready<W: Write>(
    plan: Option<crate::stream::StreamPlan>,
    out: &std::cell::RefCell<&mut W>,
    ready: &std::cell::Cell<bool>,
) {
    let Some(plan) = plan else {
        return std::future::pending().await;
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = crate::stream::run_stream(plan, tx, std::future::pending());
    let write = async {
        while let Some(r) = rx.recv().await {
            while !ready.get() {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            if write_json_line(&mut **out.borrow_mut(), &r).is_err() {
                return;
            }
        }
    };
    tokio::join!(run, write);
}

/// One JSON document and a newline, flushed so that a reader sees it at once.
fn write_json_line<W: Write>(out: &mut W, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Resolves when stdin reaches end of file (or fails). A plain thread does the blocking read,
/// so no runtime has to wait for it at shutdown.
async fn stdin_eof() {
    let (closed, wait) = oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stdin = io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            let _ = closed.send(());
        });
    if spawned.is_ok() {
        let _ = wait.await;
    } else {
        log("cannot watch stdin; --exit-on-stdin-eof is ignored");
        std::future::pending::<()>().await;
    }
}

/// Runs `work` on a fresh current-thread runtime. When called from inside a runtime (the
/// kubectl-netpol binary may be async), the runtime lives on a scoped thread of its own.
fn with_runtime<T: Send>(work: impl FnOnce(&Runtime) -> T + Send) -> io::Result<T> {
    let run = move || {
        let runtime = Builder::new_current_thread().enable_all().build()?;
        let out = work(&runtime);
        // Do not wait for anything left behind (a stdin watcher, a lingering socket task).
        runtime.shutdown_timeout(Duration::from_millis(100));
        Ok(out)
    };
    if Handle::try_current().is_ok() {
        std::thread::scope(|scope| {
            scope
                .spawn(run)
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the prober thread panicked")))
        })
    } else {
        run()
    }
}
