//! The `copse` command.

mod cli;
mod commands;

use cli::{Parsed, USAGE};
use copse_server::settings::{ConfigError, Settings};
use std::process::ExitCode;

fn init_logging(filter: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let (config, command) = match cli::parse(std::env::args().skip(1).collect()) {
        Ok(Parsed::Run(config, command)) => (config, command),
        Ok(Parsed::Help(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("copse {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(usage) => {
            eprintln!("copse: {}\n\n{}", usage.message, usage.help);
            if usage.help != USAGE {
                eprintln!("\n`copse --help` lists every command.");
            }
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("copse: configuration error: {e}");
            if matches!(e, ConfigError::Key { .. }) {
                eprintln!("copse: see config/defaults.toml for every key and its default");
            }
            return ExitCode::from(2);
        }
    };
    init_logging(&settings.log);
    eprintln!(
        "copse: database {}",
        copse_server::db::redacted(&settings.database.url)
    );
    match commands::run(settings, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("copse: {msg}");
            ExitCode::FAILURE
        }
    }
}
