//! `switchboard-admin`: operations on a Switchboard deployment and on the local stack.

mod dlq;
mod emulate;
mod env_file;
mod events;
mod functions;
mod public_media;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use switchboard_local_stack::{LocalStack, LocalStackError, Template, TemplateError};
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
    /// that template.yaml declares, idempotently, and print or write the functions' resolved
    /// environment.
    LocalStack(LocalStackArgs),
    /// List the template's functions that are built with cargo-lambda: logical id, cargo
    /// binary and how each is invoked (`tsv`: one line each; `json`: event sources in full).
    Functions(FunctionsArgs),
    /// Write the tenants of a seed file (see README "Configuration") into the config table:
    /// each tenant's items are replaced whole. Works on moto and on a real deployment alike.
    Seed(SeedArgs),
    /// Serve the media bucket's outbound/ objects on 127.0.0.1, as the PublicMediaDistribution
    /// CloudFront distribution serves them: the local stand-in `make dev` runs (local endpoint
    /// only). Prints `listening on http://…` once ready.
    PublicMedia(PublicMediaArgs),
    /// Run the template's functions as Lambda runs them (local endpoint only): each function's
    /// binary behind the Lambda Runtime API, fed by the template's HTTP API routes (served on
    /// one address), SQS event source mappings and schedules. Prints `listening on http://…`
    /// once the HTTP API is up; runs until Ctrl-C or SIGTERM.
    Emulate(emulate::EmulateArgs),
    /// Invoke one function of the local stack once, synchronously, with a JSON payload (local
    /// endpoint only), as `aws lambda invoke` does on a deployment: e.g. a retention dry run,
    /// `--function RetentionFunction --payload '{"dry_run":true}'`. Prints the answer.
    Invoke(emulate::InvokeArgs),
    /// The stack's dead-letter queues: `list` them with their counts, `show` one's messages
    /// (summarized, left in place), `redrive` one back to its source queue. On the local stack
    /// (--prefix) or a deployed one (--queue-url). Exit codes: 0 ok, 1 failure, 2 usage.
    Dlq(dlq::DlqArgs),
    /// The events queue: `tail` prints one line per event, leaving them in place unless
    /// --consume. Exit codes: 0 ok, 1 failure, 2 usage.
    Events(events::EventsArgs),
}

#[derive(Debug, Args)]
struct PublicMediaArgs {
    /// The media bucket; defaults to $SWITCHBOARD_MEDIA_BUCKET (any function's environment).
    #[arg(long, env = "SWITCHBOARD_MEDIA_BUCKET")]
    bucket: String,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, env = "SWITCHBOARD_PUBLIC_MEDIA_PORT", default_value_t = 3002)]
    port: u16,
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
struct FunctionsArgs {
    /// The SAM template to read.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// `tsv`: `LogicalId<TAB>binary<TAB>triggers` lines; `json`: everything about each function.
    #[arg(long, value_enum, default_value_t = ListFormat::Tsv)]
    format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Tsv,
    Json,
}

#[derive(Debug, Args)]
struct LocalStackArgs {
    /// Prefix of every physical name: {prefix}-{LogicalId}. Letters, digits and '-'.
    #[arg(long)]
    prefix: String,
    /// The SAM template to derive the stack from.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// Logical id of the function whose environment is printed. Without it (and without
    /// --env-dir), the template must have exactly one cargo-lambda function.
    #[arg(long, conflicts_with = "env_dir")]
    function: Option<String>,
    /// Write `<LogicalId>.env` for every cargo-lambda function of the template into this
    /// directory (created if missing) instead of printing one function's environment.
    #[arg(long, value_name = "DIR")]
    env_dir: Option<PathBuf>,
    /// `env`: KEY=VALUE lines (for a shell or make to source); `json`: physical ids and environment.
    #[arg(long, value_enum, default_value_t = Format::Env)]
    format: Format,
    /// Where the template's HTTP API is served locally (`make dev`'s gateway): the HTTP API's
    /// invoke URL in an environment (`https://${HttpApi}.execute-api…`) resolves to it.
    #[arg(long, default_value = switchboard_local_stack::local_stack::DEFAULT_HTTP_BASE_URL)]
    http_base_url: String,
    /// Template parameter override, like `sam deploy --parameter-overrides` (repeatable).
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    parameters: Vec<(String, String)>,
    /// The local value of an environment variable, in every function that declares it, in
    /// place of its template expression (repeatable): for values with no local counterpart,
    /// e.g. `SWITCHBOARD_PUBLIC_MEDIA_BASE_URL=http://127.0.0.1:3002` for the CloudFront URL.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    environment: Vec<(String, String)>,
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
        "AWS_ENDPOINT_URL is not set: local-stack and public-media only work on a local endpoint \
         (moto); run them through `make dev` or `infra/scripts/with-moto.sh -- ...`"
    )]
    NoLocalEndpoint,
    #[error(transparent)]
    LocalStack(#[from] LocalStackError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(
        "the template has {count} cargo-lambda functions {functions:?}: name one with --function, \
         or write them all with --env-dir"
    )]
    WhichFunction {
        count: usize,
        functions: Vec<String>,
    },
    #[error("seed file {path}: {source}")]
    SeedFile {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Store(#[from] switchboard_shared::config::StoreError),
    #[error("emulate: {0}")]
    Emulator(String),
    #[error(transparent)]
    UnsafeEnvValue(#[from] env_file::UnsafeEnvValue),
    #[error("cannot serialize the output: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("{0}")]
    Queue(String),
    /// A command line that names something that does not exist: exit code 2, as clap's own.
    #[error("{0}")]
    Usage(String),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LocalStack(args) => run_local_stack(args).await,
        Command::Functions(args) => run_functions(args),
        Command::Seed(args) => run_seed(args).await,
        Command::PublicMedia(args) => run_public_media(args).await,
        Command::Emulate(args) => emulate::run(args).await,
        Command::Invoke(args) => emulate::invoke(args).await,
        Command::Dlq(args) => dlq::run(args).await,
        Command::Events(args) => events::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ AdminError::Usage(_)) => {
            eprintln!("switchboard-admin: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("switchboard-admin: {error}");
            ExitCode::FAILURE
        }
    }
}

fn print(output: &str) -> Result<(), AdminError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn run_functions(args: FunctionsArgs) -> Result<(), AdminError> {
    let template = Template::from_path(&args.template)?;
    let output = match args.format {
        ListFormat::Tsv => functions::lines(&template),
        ListFormat::Json => serde_json::to_string_pretty(&functions::describe(&template))? + "\n",
    };
    print(&output)
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

/// Only a local endpoint (moto): a guard against creating `{prefix}-*` resources in a real
/// account, or serving a real bucket, by accident.
fn require_local_endpoint() -> Result<(), AdminError> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none_or(|v| v.is_empty()) {
        return Err(AdminError::NoLocalEndpoint);
    }
    Ok(())
}

async fn run_public_media(args: PublicMediaArgs) -> Result<(), AdminError> {
    require_local_endpoint()?;
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let media = public_media::PublicMedia::new(
        switchboard_shared::aws::s3_client(&sdk_config),
        args.bucket,
    );
    let listener =
        tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, args.port)).await?;
    print(&format!("listening on http://{}\n", listener.local_addr()?))?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    public_media::serve(std::sync::Arc::new(media), listener, shutdown).await?;
    Ok(())
}

async fn run_local_stack(args: LocalStackArgs) -> Result<(), AdminError> {
    require_local_endpoint()?;
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let mut stack = LocalStack::create(&sdk_config, &args.prefix, &args.template).await?;
    stack.set_http_base_url(&args.http_base_url);
    for (name, value) in &args.parameters {
        stack.set_parameter(name, value)?;
    }
    for (name, value) in &args.environment {
        stack.set_environment(name, value);
    }
    let functions: Vec<String> = stack
        .template()
        .cargo_functions()
        .map(|(id, _, _)| id.to_owned())
        .collect();

    if let Some(dir) = &args.env_dir {
        return write_env_dir(&stack, &functions, dir, args.format);
    }
    let function = match (args.function, functions.as_slice()) {
        (Some(function), _) => function,
        (None, [only]) => only.clone(),
        (None, _) => {
            return Err(AdminError::WhichFunction {
                count: functions.len(),
                functions,
            });
        }
    };
    let environment = stack.function_environment(&function)?;
    let output = match args.format {
        Format::Env => env_file::env_lines(&environment)?,
        Format::Json => json_document(&stack, &function, &environment)?,
    };
    print(&output)
}

fn json_document(
    stack: &LocalStack,
    function: &str,
    environment: &BTreeMap<String, String>,
) -> Result<String, AdminError> {
    let document = serde_json::json!({
        "prefix": stack.prefix(),
        "function": function,
        "resources": stack.resources(),
        "environment": environment,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

/// `<dir>/<LogicalId>.env` (or `.json`) per function, and the list of names on stdout.
fn write_env_dir(
    stack: &LocalStack,
    functions: &[String],
    dir: &Path,
    format: Format,
) -> Result<(), AdminError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| AdminError::WriteFile { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    let mut written = String::new();
    for function in functions {
        let environment = stack.function_environment(function)?;
        let (text, extension) = match format {
            Format::Env => (env_file::env_lines(&environment)?, "env"),
            Format::Json => (json_document(stack, function, &environment)?, "json"),
        };
        let path = dir.join(format!("{function}.{extension}"));
        std::fs::write(&path, text).map_err(write_error(&path))?;
        written.push_str(&format!("{}\n", path.display()));
    }
    print(&written)
}

#[cfg(test)]
mod tests {
    use super::*;

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
