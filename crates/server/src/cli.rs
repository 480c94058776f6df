//! The command line: `serve` (the default), `migrate`, `user create`,
//! `cache invalidate|refresh`, `foods import`, `openapi`. Every setting is also an
//! environment variable.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use macrotrack_domain::{Day, UserId};
use macrotrack_service::CreateError;

use crate::Settings;
use crate::food_import::{SourceFormat, import_foods};

/// The command line: settings, logging and what to do (serving by default).
#[derive(Parser)]
#[command(name = "macrotrack", version, about = "Nutrition macro tracking API with a two-tier cache.")]
pub struct Cli {
    #[allow(missing_docs, reason = "clap renders doc comments as help text, which this change must not alter")]
    #[command(flatten)]
    pub settings: Settings,

    /// Log filter (tracing syntax), e.g. `info` or `macrotrack_http=debug,info`.
    #[arg(long, env = "MACROTRACK_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log lines as text for people, or as one JSON object per line for a
    /// log shipper (each request's line carries its request id, route,
    /// status and latency).
    #[arg(long, env = "MACROTRACK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[allow(missing_docs, reason = "clap renders doc comments as help text, which this change must not alter")]
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines are written (on stderr).
#[allow(missing_docs, reason = "clap renders doc comments as help text, which this change must not alter")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What the binary does once configured.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default without a subcommand).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Act on the shared cache store (needs REDIS_URL).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// The global food catalogue.
    #[command(subcommand)]
    Foods(FoodsCommand),
    /// Print the OpenAPI 3.1 document (what GET /openapi.json serves),
    /// indented; needs no database.
    Openapi,
}

/// Operators' user management, for a deployment without the admin token.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user and print their bearer token (shown only this once).
    Create {
        /// The user's name (1 to 200 characters).
        name: String,
    },
}

/// Operators' hands on the global food catalogue.
#[derive(Subcommand)]
pub enum FoodsCommand {
    /// Import a USDA FoodData Central download (the folder of its CSV
    /// files) or, with `--format off`, an Open Food Facts JSONL export
    /// (`.gz` too); migrates first, prints `imported N, updated M,
    /// unchanged K, skipped S` and a line per skip reason.
    Import {
        /// What PATH holds.
        #[arg(long, value_enum, default_value_t = SourceFormat::Fdc)]
        format: SourceFormat,
        /// The FDC folder, or the OFF file.
        path: PathBuf,
    },
}

/// Operators' hands on the shared cache, for repairs.
#[derive(Subcommand)]
pub enum CacheCommand {
    /// Invalidate rendered tags of one user, e.g. `user_42_food`.
    Invalidate {
        /// The user's id.
        #[arg(long)]
        user: i64,
        /// A tag to invalidate; repeat or list several.
        #[arg(long = "tag", required = true, num_args = 1..)]
        tags: Vec<String>,
    },
    /// Re-read one day's logs of a user from the database into the cache
    /// and print them.
    Refresh {
        /// The user's id.
        #[arg(long)]
        user: i64,
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
}

/// Runs every command but `serve`, printing its result on stdout.
pub async fn run_command(command: Command, settings: &Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => unreachable!("serve is run by main"),
        Command::Openapi => println!("{}", macrotrack_http::openapi_text(true)),
        Command::Migrate => {
            let repository = crate::database(settings).await?;
            println!("migrations applied ({})", repository.backend());
        }
        Command::Foods(FoodsCommand::Import { format, path }) => import_foods(settings, format, &path).await?,
        Command::User(UserCommand::Create { name }) => {
            let service = crate::service(settings).await?;
            let created = service.create_user(&name).await.map_err(write_error)?;
            eprintln!("created user {} ({}); their bearer token, shown only now:", created.user.id, created.user.name);
            println!("{}", created.token);
        }
        Command::Cache(command) => {
            // The in-process cache lives inside the server: this process
            // would only ever change its own, empty copy.
            if settings.redis_url().is_none() {
                bail!(
                    "cache commands act on a shared store: set REDIS_URL (for the in-process cache, use the server's /v1/admin/cache routes)"
                );
            }
            let service = crate::service(settings).await?;
            match command {
                CacheCommand::Invalidate { user, tags } => {
                    let count = service.admin_invalidate(UserId(user), &tags).await.map_err(write_error)?;
                    println!("invalidated {count} tag(s) of user {user}");
                }
                CacheCommand::Refresh { user, date } => {
                    let day: Day = date.parse().with_context(|| format!("--date {date}"))?;
                    let logs = service.admin_refresh(UserId(user), day).await.map_err(write_error)?;
                    println!("{}", serde_json::to_string_pretty(&logs)?);
                }
            }
        }
    }
    Ok(())
}

fn write_error(error: CreateError) -> anyhow::Error {
    match error {
        CreateError::Invalid(errors) => anyhow::anyhow!("invalid input: {errors}"),
        CreateError::Unavailable(error) => anyhow::Error::new(error),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The rows of docs/operations.md's settings table: (variable, default).
    fn documented() -> Vec<(String, String)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operations.md");
        let doc = std::fs::read_to_string(path).expect("docs/operations.md");
        let section = doc.split("\n## ").find(|section| section.starts_with("Settings\n")).expect("a Settings section");
        section
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.strip_prefix("| `")?.split(" | ").collect();
                let variable = cells.first()?.strip_suffix('`')?;
                Some((variable.to_owned(), cells.get(1)?.replace('`', "")))
            })
            .collect()
    }

    /// Every setting's default as clap has it (the one source, which
    /// `Settings::default` reads too) is the one the docs state, and the
    /// docs list no setting that does not exist.
    #[test]
    fn the_documented_defaults_are_clap_s() {
        let rows = documented();
        let command = Cli::command();
        let mut variables = Vec::new();
        for arg in command.get_arguments() {
            let Some(variable) = arg.get_env().and_then(|env| env.to_str()) else { continue };
            variables.push(variable.to_owned());
            let row = rows.iter().find(|(name, _)| name == variable);
            let (_, documented) = row.unwrap_or_else(|| panic!("{variable} is not in docs/operations.md's table"));
            let default: Vec<String> =
                arg.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect();
            match default.first().map(String::as_str) {
                None => assert!(documented.starts_with("unset"), "{variable}: no default, documented {documented:?}"),
                Some("") => assert_eq!(documented, "empty", "{variable}"),
                Some(value) => {
                    assert!(documented.starts_with(value), "{variable}: {value:?}, documented {documented:?}")
                }
            }
        }
        for (name, _) in &rows {
            assert!(variables.contains(name), "docs/operations.md documents {name}, which is no setting");
        }
        assert!(variables.len() >= 18, "every setting was seen: {variables:?}");
    }

    #[test]
    fn the_log_format_is_a_flag_of_two_values() {
        let cli = Cli::try_parse_from(["macrotrack", "--log-format", "json"]).expect("parses");
        assert_eq!(cli.log_format, LogFormat::Json);
        let cli = Cli::try_parse_from(["macrotrack", "migrate", "--log-format", "text"]).expect("global");
        assert_eq!(cli.log_format, LogFormat::Text);
        assert!(Cli::try_parse_from(["macrotrack", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn foods_import_reads_fdc_by_default_and_off_when_asked() {
        let cli = Cli::try_parse_from(["macrotrack", "foods", "import", "data/fdc"]).expect("parses");
        let Some(Command::Foods(FoodsCommand::Import { format, path })) = cli.command else { panic!("foods import") };
        assert_eq!((format, path), (SourceFormat::Fdc, PathBuf::from("data/fdc")));
        let cli = Cli::try_parse_from(["macrotrack", "foods", "import", "--format", "off", "x.jsonl.gz"]).expect("off");
        assert!(matches!(cli.command, Some(Command::Foods(FoodsCommand::Import { format: SourceFormat::Off, .. }))));
        assert!(Cli::try_parse_from(["macrotrack", "foods", "import"]).is_err(), "PATH is required");
        assert!(Cli::try_parse_from(["macrotrack", "foods", "import", "--format", "csv", "x"]).is_err());
    }

    #[test]
    fn openapi_is_a_subcommand_without_arguments() {
        let cli = Cli::try_parse_from(["macrotrack", "openapi"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::Openapi)));
        assert!(Cli::try_parse_from(["macrotrack", "openapi", "extra"]).is_err());
    }
}
