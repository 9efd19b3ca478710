//! `spdyload`: h2load-style SPDY load generator. Flags → `loadgen::Plan` → pinned workers →
//! h2load-shaped text report (or `--json`). See `spdyload --help`.

use std::process::ExitCode;

use clap::Parser;
use spdygate::loadgen::{self, Args, Plan};

/// mimalloc, as in the gateway: per-thread free lists suit one pinned ring per thread.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match Plan::from_args(&args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("spdyload: {e}");
            return ExitCode::from(2);
        }
    };
    let json = plan.json;
    match loadgen::run(plan) {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spdyload: {e}");
            ExitCode::FAILURE
        }
    }
}
