//! `switchboard-admin`: operations on a Switchboard deployment and on the local stack.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use switchboard_infra::{LocalStack, LocalStackError};
use switchboard_shared::config::{ConfigStore, SeedFile};

#[derive(Debug, Parser)]
#[command(name = "switchboard-admin", version, about = "Switchboard operations")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create on the local endpoint (AWS_ENDPOINT_URL, i.e. moto) the queues, tables and bucket
    /// that template.yaml declares, idempotently, and print a function's resolved environment.
    LocalStack(LocalStackArgs),
    /// Write the tenants of a seed file (see README "Configuration") into the config table:
    /// each tenant's items are replaced whole. Works on moto and on a real deployment alike.
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// The seed file (JSON).
    #[arg(long)]
    file: PathBuf,
    /// The config table; defaults to $SWITCHBOARD_CONFIG_TABLE (the stack's ConfigTableName output).
    #[arg(long, env = "SWITCHBOARD_CONFIG_TABLE")]
    table: String,
}

#[derive(Debug, Args)]
struct LocalStackArgs {
    /// Prefix of every physical name: {prefix}-{LogicalId}. Letters, digits and '-'.
    #[arg(long)]
    prefix: String,
    /// The SAM template to derive the stack from.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// Logical id of the function whose environment is printed.
    #[arg(long, default_value = "WebhookFunction")]
    function: String,
    /// `env`: KEY=VALUE lines (for a shell or make to source); `json`: physical ids and environment.
    #[arg(long, value_enum, default_value_t = Format::Env)]
    format: Format,
    /// Template parameter override, like `sam deploy --parameter-overrides` (repeatable).
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    parameters: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Env,
    Json,
}

fn parse_parameter(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, found {text:?}")),
    }
}

#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error(
        "AWS_ENDPOINT_URL is not set: local-stack only creates resources on a local endpoint (moto); \
         run it through `make dev` or `infra/scripts/with-moto.sh -- ...`"
    )]
    NoLocalEndpoint,
    #[error(transparent)]
    LocalStack(#[from] LocalStackError),
    #[error("seed file {path}: {source}")]
    SeedFile {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Store(#[from] switchboard_shared::config::StoreError),
    #[error(
        "{variable}={value:?} cannot be written as an unquoted KEY=VALUE line (for both shell and make); \
         use --format json"
    )]
    UnsafeEnvValue { variable: String, value: String },
    #[error("cannot serialize the output: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LocalStack(args) => run_local_stack(args).await,
        Command::Seed(args) => run_seed(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard-admin: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run_seed(args: SeedArgs) -> Result<(), AdminError> {
    let seed_error = |source: Box<dyn std::error::Error + Send + Sync>| AdminError::SeedFile {
        path: args.file.clone(),
        source,
    };
    let text = std::fs::read_to_string(&args.file).map_err(|err| seed_error(err.into()))?;
    let seed = SeedFile::parse(&text).map_err(|err| seed_error(err.into()))?;
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let store = ConfigStore::new(
        switchboard_shared::aws::dynamodb_client(&sdk_config),
        &args.table,
    );
    for tenant in &seed.tenants {
        store.put_tenant(tenant).await?;
        // Names and counts only: a seed file holds secrets.
        println!(
            "seeded tenant '{}': {} service(s), {} queue(s)",
            tenant.id,
            tenant.services.len(),
            tenant.queues.len()
        );
    }
    Ok(())
}

async fn run_local_stack(args: LocalStackArgs) -> Result<(), AdminError> {
    // A guard against creating {prefix}-* resources in a real account by accident.
    if std::env::var_os("AWS_ENDPOINT_URL").is_none_or(|v| v.is_empty()) {
        return Err(AdminError::NoLocalEndpoint);
    }
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let mut stack = LocalStack::create(&sdk_config, &args.prefix, &args.template).await?;
    for (name, value) in &args.parameters {
        stack.set_parameter(name, value)?;
    }
    let environment = stack.function_environment(&args.function)?;

    let output = match args.format {
        Format::Env => env_lines(&environment)?,
        Format::Json => {
            let document = serde_json::json!({
                "prefix": stack.prefix(),
                "function": args.function,
                "resources": stack.resources(),
                "environment": environment,
            });
            serde_json::to_string_pretty(&document)? + "\n"
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// KEY=VALUE lines that a POSIX shell (`. file`, `export $(...)`) and make (`include`) read
/// alike, which means no quoting: values that would need it are refused instead.
fn env_lines(environment: &BTreeMap<String, String>) -> Result<String, AdminError> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/@%+,=~".contains(c);
    let mut lines = String::new();
    for (variable, value) in environment {
        if !value.chars().all(safe) {
            return Err(AdminError::UnsafeEnvValue {
                variable: variable.clone(),
                value: value.clone(),
            });
        }
        lines.push_str(variable);
        lines.push('=');
        lines.push_str(value);
        lines.push('\n');
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_are_sorted_and_refuse_values_that_need_quoting() {
        let mut environment = BTreeMap::new();
        environment.insert(
            "B".to_owned(),
            "http://127.0.0.1:5000/123456789012/x-Q.fifo".to_owned(),
        );
        environment.insert("A".to_owned(), "info".to_owned());
        assert_eq!(
            env_lines(&environment).unwrap(),
            "A=info\nB=http://127.0.0.1:5000/123456789012/x-Q.fifo\n"
        );
        environment.insert("C".to_owned(), "two words".to_owned());
        assert!(env_lines(&environment).is_err());
        environment.insert("C".to_owned(), "$(x)".to_owned());
        assert!(env_lines(&environment).is_err());
    }

    #[test]
    fn parameters_are_name_equals_value() {
        assert_eq!(
            parse_parameter("LogLevel=debug"),
            Ok(("LogLevel".into(), "debug".into()))
        );
        assert_eq!(
            parse_parameter("Empty="),
            Ok(("Empty".into(), String::new()))
        );
        assert!(parse_parameter("=x").is_err());
        assert!(parse_parameter("novalue").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
