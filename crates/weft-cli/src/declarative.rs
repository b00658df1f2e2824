//! Declarative agents and workflows on the command line: `weft run -f FILE`,
//! `weft validate FILE…`, `weft schema agent|workflow`.

use std::convert::Infallible;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use weft::ChatAgent;
use weft::declarative::{Bindings, LoadError, LoadedAgent};
use weft_mcp::{McpErrorKind, McpSource, UnreachableCause};

use crate::RunArgs;
use crate::demo_tools::{AddArgs, WeatherArgs, forecast};
use crate::error::{CliError, EXIT_MCP_TIMEOUT, EXIT_MCP_UNREACHABLE, EXIT_OTHER};

/// Arguments of `weft validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Agent or workflow files (YAML) to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Arguments of `weft schema`.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// Which file format.
    #[arg(value_enum)]
    kind: SchemaKind,
}

/// The formats `weft schema` describes.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// Agent files (MAF's prompt-agent schema).
    Agent,
    /// Workflow files (Weft's format).
    Workflow,
}

/// The functions a file's `kind: function` tools can bind to: the CLI's demo tools.
pub(crate) fn bindings() -> Bindings {
    Bindings::new()
        .function("get_weather", |args: WeatherArgs| async move { Ok::<_, Infallible>(forecast(&args.city)) })
        .function("add", |args: AddArgs| async move {
            Ok::<_, Infallible>(format!("{} + {} = {}", args.a, args.b, args.a + args.b))
        })
}

/// `weft validate`: every problem of every file as `file:line:col: message` on stdout; exit 1
/// when there is one.
pub(crate) fn validate(args: &ValidateArgs) -> Result<(), CliError> {
    let bindings = bindings();
    let mut failed = false;
    for file in &args.files {
        match weft::declarative::validate_file(file, &bindings) {
            Ok(_) => crate::logging::notice(format_args!("{}: ok", file.display())),
            Err(error) => {
                failed = true;
                for problem in error.problems() {
                    print_line(&problem.to_string())?;
                }
            }
        }
    }
    if failed { Err(CliError::Reported(EXIT_OTHER)) } else { Ok(()) }
}

/// `weft schema agent`: the JSON Schema of agent files.
pub(crate) fn schema(args: &SchemaArgs) -> Result<(), CliError> {
    let schema = match args.kind {
        SchemaKind::Agent => weft::declarative::agent_json_schema(),
        SchemaKind::Workflow => weft::declarative::workflow_json_schema(),
    };
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    print_line(&text)
}

/// Writes a line to stdout; a closed pipe (`weft schema agent | head`) is not an error.
fn print_line(line: &str) -> Result<(), CliError> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{line}") {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::Io { context: "could not write to stdout".into(), source: error })
        }
        _ => Ok(()),
    }
}

/// The agent of `-f FILE`, with `weft run`'s flags on top (`--instructions` and `--model`
/// replace the file's, `--provider` its model, `--max-iterations`, the `--mcp` servers' tools, `--approve` for the
/// file's function tools, `--timeout` and `--idle-timeout` for its model and MCP servers). The file's MCP servers are added to `sources` (the caller closes
/// them).
pub(crate) async fn load(
    file: &std::path::Path,
    args: &RunArgs,
    approval: Option<weft::ApprovalMode>,
    sources: &mut Vec<McpSource>,
) -> Result<(ChatAgent, String), CliError> {
    load_with(file, args, approval, sources, |builder| builder).await
}

/// [`load`], with `finish` the last change to the agent's builder (`weft worker` adds the
/// durable middleware there).
pub(crate) async fn load_with(
    file: &std::path::Path,
    args: &RunArgs,
    approval: Option<weft::ApprovalMode>,
    sources: &mut Vec<McpSource>,
    finish: fn(weft::agent::ChatAgentBuilder) -> weft::agent::ChatAgentBuilder,
) -> Result<(ChatAgent, String), CliError> {
    let mut bindings = bindings();
    if let Some(mode) = approval {
        bindings = bindings.with_approval(mode);
    }
    let options = load_options(args)?;
    let replaced = options.model.is_some();
    let plan = weft::declarative::plan_file_with(file, &bindings, &options).map_err(load_error)?;
    let extra: Vec<McpSource> = sources.clone();
    let loaded: LoadedAgent = weft::declarative::finish(plan, |mut builder| {
        for source in extra {
            builder = builder.tool_set(std::sync::Arc::new(source));
        }
        if let Some(instructions) = &args.agent.instructions {
            builder = builder.instructions(instructions.clone());
        }
        // With --provider, the replacement model already has --model.
        if let Some(model) = args.agent.model.as_ref().filter(|_| !replaced) {
            builder = builder.model(model.clone());
        }
        if let Some(limit) = args.agent.max_iterations {
            builder = builder.max_iterations(limit as usize);
        }
        finish(builder)
    })
    .await
    .map_err(load_error)?;
    sources.extend(loaded.sources);
    Ok((loaded.agent, loaded.model_description))
}

/// How `weft run`'s flags load a file: `--timeout` and `--idle-timeout` for its models and MCP
/// servers, and the model of `--provider` (with `--base-url`, `--model`, `--api`) replacing its
/// agents' own.
pub(crate) fn load_options(args: &RunArgs) -> Result<weft::declarative::LoadOptions, CliError> {
    Ok(weft::declarative::LoadOptions {
        model_first_byte_timeout: args.agent.connect.timeout.map(std::time::Duration::from_secs),
        model_idle_timeout: args.agent.idle_timeout.map(std::time::Duration::from_secs),
        mcp_timeout: args.agent.connect.timeout.map(std::time::Duration::from_secs),
        model: crate::provider::file_override(args)?,
        credential: Some(crate::provider::entra_credential()),
    })
}

/// A load error in the CLI's terms: problems are usage errors (exit 2, every problem on its
/// own line), MCP failures keep their category's exit code.
pub(crate) fn load_error(error: LoadError) -> CliError {
    match error {
        LoadError::Invalid(problems) => CliError::Usage(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\nweft: error: "),
        ),
        LoadError::Read { path, source } => {
            CliError::Io { context: format!("could not read {}", path.display()), source }
        }
        LoadError::Connect { problem, source } => match source.downcast::<weft_mcp::McpError>() {
            Ok(mcp) => {
                let code = if matches!(
                    mcp.kind(),
                    McpErrorKind::Timeout | McpErrorKind::Unreachable(UnreachableCause::Timeout)
                ) {
                    EXIT_MCP_TIMEOUT
                } else {
                    EXIT_MCP_UNREACHABLE
                };
                CliError::Mcp { line: format!("{problem}: {}", mcp.message()), code, source: *mcp }
            }
            Err(other) => CliError::Usage(format!("{problem}: {other}")),
        },
    }
}
