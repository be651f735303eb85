//! `lanner [config-file] [--directive value ...]`: parse the configuration,
//! run the server, map failures to one line on stderr and a non-zero exit.

use std::process::ExitCode;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match lanner::config::Config::from_args(&args) {
        Ok(Some(c)) => c,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanner: {e}");
            return ExitCode::from(1);
        }
    };
    lanner::log::init(&config.logfile, &config.loglevel);
    match lanner::server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanner: {e}");
            ExitCode::from(1)
        }
    }
}
