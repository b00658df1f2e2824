//! `weft run`: one agent run over an optional saved session, streamed to the terminal.

mod session_lock;

use std::io::Read;
use std::sync::Arc;

use futures::StreamExt;
use weft::{AgentSession, ApprovalMode, ChatAgent, RunInput, WithApproval};
use weft_mcp::McpSource;

use crate::RunArgs;
use crate::approve::Approver;
use crate::demo_tools;
use crate::error::CliError;
use crate::mcp_server::ServerSpec;
use crate::output::Renderer;
use crate::provider;
use session_lock::SessionLock;

/// Runs the agent on the prompt, streaming the answer; saves the session afterwards if asked.
/// The MCP servers of `--mcp` are connected first and closed at the end, whatever happened.
///
/// With `--session`, the file's place is checked before anything is connected or asked (a run
/// whose conversation could not be saved does not start), and the run holds the session's lock
/// from loading the file to saving it, so that runs on one file take turns.
pub(crate) async fn run(args: RunArgs) -> Result<(), CliError> {
    if let Some(file) = &args.file
        && weft::declarative::file_kind(file) == weft::declarative::FileKind::Workflow
    {
        return crate::workflow_run::run(file, &args).await;
    }
    if args.checkpoint.is_some() || args.resume.is_some() {
        return Err(CliError::Usage("--checkpoint and --resume apply to workflow files (-f) only".into()));
    }
    let prompt = read_prompt(args.prompt.as_deref().unwrap_or_default())?;
    // A file (-f) names its own provider.
    let provider = if args.file.is_none() { Some(provider::select(&args)?) } else { None };
    let mut lock = match &args.session {
        Some(path) => Some(SessionLock::open(&AgentSession::check_path(path)?)?),
        None => None,
    };
    let approver = args.approve.then(|| Approver::new(args.prompt.as_deref() == Some("-")));
    let mut sources = Vec::new();
    let connected = connect_servers(&args, approver.as_ref(), &mut sources).await;
    let result = match connected {
        Ok(()) => match make_agent(&args, provider, approver.as_ref(), &mut sources).await {
            Ok((agent, description)) => {
                let agent_run = run_agent(args, prompt, agent, description, approver);
                let work = crate::progress::while_running(&sources, agent_run);
                match lock.as_mut() {
                    Some(lock) => lock.hold_while(work).await,
                    None => work.await,
                }
            }
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    close_all(&sources, result).await
}

/// Closes the MCP servers of `sources` (each in turn, whatever `result` is), then gives
/// `result` back: how every command ends that connected some.
pub(crate) async fn close_all<T>(sources: &[McpSource], result: T) -> T {
    for source in sources {
        source.close().await;
    }
    result
}

/// Connects the servers of `--mcp`, in order, into `sources`; stops at the first that fails
/// (the caller closes those already connected).
pub(crate) async fn connect_servers(
    args: &RunArgs,
    approver: Option<&Approver>,
    sources: &mut Vec<McpSource>,
) -> Result<(), CliError> {
    let specs = args
        .agent
        .mcp
        .iter()
        .map(|server| ServerSpec::parse(server, false, &args.agent.connect))
        .collect::<Result<Vec<_>, _>>()?;
    for spec in &specs {
        let source = spec.connect(approver.map(Approver::mode)).await?;
        let count = weft::ToolSet::tools(&source).len();
        crate::logging::notice(format_args!("{count} tool(s) from {}", spec.display));
        sources.push(source);
    }
    Ok(())
}

/// The agent of `args` and what its model is: the file's (`-f`, whose MCP servers are added
/// to `sources`), or the CLI's demo agent on `provider`.
pub(crate) async fn make_agent(
    args: &RunArgs,
    provider: Option<provider::Provider>,
    approver: Option<&Approver>,
    sources: &mut Vec<McpSource>,
) -> Result<(ChatAgent, String), CliError> {
    if let Some(file) = &args.file {
        return crate::declarative::load(file, args, approver.map(Approver::mode), sources).await;
    }
    let provider = match provider {
        Some(provider) => provider,
        None => provider::select(args)?,
    };
    let description = provider.description.clone();
    let mode = approver.map(Approver::mode).unwrap_or(ApprovalMode::Never);
    Ok((build_agent(args, provider, sources, mode), description))
}

async fn run_agent(
    args: RunArgs,
    prompt: String,
    agent: ChatAgent,
    description: String,
    approver: Option<Approver>,
) -> Result<(), CliError> {
    crate::logging::notice(format_args!("using {description}"));

    let mut session = match &args.session {
        Some(path) if path.exists() => AgentSession::load_async(path.clone()).await?,
        _ => AgentSession::new(),
    };

    let mut renderer = Renderer::new(args.json);
    let mut input = RunInput::from(prompt);
    let result = loop {
        if let Err(error) = stream_run(&agent, &mut session, input, &mut renderer).await {
            break Err(error);
        }
        let pending = session.pending_approvals();
        let Some(approver) = approver.as_ref().filter(|_| !pending.is_empty()) else { break Ok(()) };
        renderer.approvals_answered(pending.len());
        match approver.ask(pending).await {
            Ok(answers) => input = RunInput::from(answers),
            Err(error) => break Err(error),
        }
    };
    let result = match result {
        Ok(()) => match &args.session {
            Some(path) => session.save_async(path.clone()).await.map_err(CliError::from),
            None => Ok(()),
        },
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => renderer.done(args.session.as_deref()),
        Err(error) => {
            renderer.failed(&error);
            Err(error)
        }
    }
}

/// The CLI's agent: the demo tools (or the MCP servers' tools), the instructions, the model and
/// the iteration limit of `args`; `mode` says which calls of the demo tools need approval.
pub(crate) fn build_agent(
    args: &RunArgs,
    provider: provider::Provider,
    sources: &[McpSource],
    mode: ApprovalMode,
) -> ChatAgent {
    agent_builder(args, provider, sources, mode).build()
}

/// The builder of [`build_agent`]'s agent, for callers that add to it.
pub(crate) fn agent_builder(
    args: &RunArgs,
    provider: provider::Provider,
    sources: &[McpSource],
    mode: ApprovalMode,
) -> weft::agent::ChatAgentBuilder {
    let mut builder =
        ChatAgent::builder(provider.client).name("weft").description("The weft CLI's demo agent");
    if sources.is_empty() {
        builder = builder
            .tool(WithApproval::new(demo_tools::get_weather(), mode.clone()))
            .tool(WithApproval::new(demo_tools::add(), mode));
    }
    for source in sources {
        builder = builder.tool_set(Arc::new(source.clone()));
    }
    if let Some(instructions) = &args.agent.instructions {
        builder = builder.instructions(instructions.clone());
    }
    if let Some(model) = args.agent.model.clone().or(provider.model) {
        builder = builder.model(model);
    }
    if let Some(limit) = args.agent.max_iterations {
        builder = builder.max_iterations(limit as usize);
    }
    builder
}

/// Streams the run into the renderer; Ctrl-C drops the run (and leaves the session as it was).
pub(crate) async fn stream_run(
    agent: &ChatAgent,
    session: &mut AgentSession,
    input: RunInput,
    renderer: &mut Renderer,
) -> Result<(), CliError> {
    let mut stream = agent.run_stream(session, input);
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            biased;
            _ = &mut interrupt => return Err(CliError::Interrupted),
            next = stream.next() => match next {
                Some(update) => renderer.update(&update?)?,
                None => return Ok(()),
            },
        }
    }
}

/// The prompt argument, or stdin when it is `-`.
pub(crate) fn read_prompt(argument: &str) -> Result<String, CliError> {
    let prompt = if argument == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|source| CliError::Io {
            context: "could not read the prompt from stdin".into(),
            source,
        })?;
        text
    } else {
        argument.to_string()
    };
    if prompt.trim().is_empty() {
        return Err(CliError::Usage("the prompt is empty".into()));
    }
    Ok(prompt)
}
