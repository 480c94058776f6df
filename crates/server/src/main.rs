//! `macrotrack`: serve the API or run an operations command. Failures are
//! one line on stderr and exit code 1.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use macrotrack::cli::{Cli, Command};
use macrotrack::{Settings, build, init_logging};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A bad value of a setting is one line, like every other startup
        // failure; usage mistakes and --help keep clap's own output.
        Err(error) if matches!(error.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) => {
            let text = error.render().to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: invalid value"));
            return ExitCode::FAILURE;
        }
        Err(error) => error.exit(),
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging(&cli.log, cli.log_format)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await,
        command => macrotrack::cli::run_command(command, &cli.settings).await,
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let embedded = settings.uses_default_database();
    let application = build(settings).await?;
    println!("macrotrack listening on http://{}", application.address());
    if embedded {
        println!("using the SQLite file macrotrack.db in the working directory");
        println!(
            "create a user with `macrotrack user create NAME` (with cargo: `cargo run --release -- user create NAME`)"
        );
    }
    application.run_until_stopped().await?;
    Ok(())
}
