//! spdygate: the gateway. Loads the configuration (a TOML file or flags), starts one
//! pinned shard per core, and on SIGTERM/SIGINT drains: GOAWAY to every session, streams in
//! flight finish up to the drain deadline, exit 0.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use mimalloc::MiMalloc;

use spdygate::config::Config;
use spdygate::runtime::{cpu, net};
use spdygate::shard::{tls, Counters, Shard, ShardContext};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// SPDY/3.1, SPDY/3 and SPDY/2 (and HTTP/1.1) gateway onto HTTP/1.1 backends.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// TOML configuration file (see tuning/gateway.example.toml).
    #[arg(long, conflicts_with_all = ["listen", "backend"])]
    config: Option<PathBuf>,
    /// Validate a configuration file and exit.
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
    /// Address to listen on (repeatable).
    #[arg(long)]
    listen: Vec<SocketAddr>,
    /// PEM certificate chain: the listeners speak TLS with ALPN.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Backend HTTP/1.1 server (repeatable).
    #[arg(long)]
    backend: Vec<SocketAddr>,
    /// Shards (threads); 0 = one per available core.
    #[arg(long, default_value_t = 0)]
    shards: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.check_config {
        return match Config::load(path) {
            Ok(c) => {
                println!(
                    "{}: ok ({} listener(s), {} backend(s))",
                    path.display(),
                    c.listeners.len(),
                    c.backends.servers.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        None => {
            if args.listen.is_empty() || args.backend.is_empty() {
                eprintln!("spdygate: give --config FILE, or --listen ADDR and --backend ADDR");
                return ExitCode::from(2);
            }
            let tls = args.tls_cert.clone().zip(args.tls_key.clone());
            Config::from_flags(args.listen.clone(), tls, args.backend.clone(), args.shards)
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spdygate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let cores = cpu::cores();
    let shards = if config.shards == 0 { cores.len().max(1) } else { config.shards };
    let tls_configs = config
        .listeners
        .iter()
        .map(|l| match &l.tls {
            Some((cert, key)) => tls::server_config(cert, key, &l.alpn).map(Some),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, _>>()?;

    // The first shard's listeners resolve port 0; the others bind the same addresses.
    let mut first = Vec::new();
    for listener in &mut config.listeners {
        let bound = net::reuseport_listener(listener.addr, 4096)?;
        listener.addr = bound.local_addr()?;
        first.push(bound);
    }
    let config = Arc::new(config);
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
    let counters = Arc::new(Counters::default());

    let mut threads = Vec::new();
    let mut first = Some(first);
    for index in 0..shards {
        let listeners = match first.take() {
            Some(l) => l,
            None => config.listeners.iter().map(|l| net::reuseport_listener(l.addr, 4096)).collect::<Result<_, _>>()?,
        };
        let ctx = ShardContext {
            index,
            config: Arc::clone(&config),
            tls: tls_configs.clone(),
            listeners,
            stop: Arc::clone(&stop),
            counters: Arc::clone(&counters),
        };
        let core = cores.get(index % cores.len().max(1)).copied();
        threads.push(std::thread::Builder::new().name(format!("shard-{index}")).spawn(move || {
            if let Some(core) = core {
                cpu::pin(core);
            }
            Shard::new(ctx).and_then(Shard::run)
        })?);
    }
    let addrs: Vec<String> = config.listeners.iter().map(|l| l.addr.to_string()).collect();
    println!("spdygate listening on {} ({} shard(s))", addrs.join(", "), shards);
    std::io::stdout().flush()?;
    for t in threads {
        match t.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => return Err("a shard panicked".into()),
        }
    }
    Ok(())
}
