//! `weft run`: one agent run over an optional saved session, streamed to the terminal.

use std::io::Read;
use std::path::Path;

use futures::StreamExt;
use weft::{AgentSession, ChatAgent};

use crate::RunArgs;
use crate::demo_tools;
use crate::error::CliError;
use crate::output::Renderer;
use crate::provider;

/// Runs the agent on the prompt, streaming the answer; saves the session afterwards if asked.
pub(crate) async fn run(args: RunArgs) -> Result<(), CliError> {
    let prompt = read_prompt(&args.prompt)?;
    let provider = provider::select(&args)?;
    eprintln!("weft: using {}", provider.description);

    let mut session = match &args.session {
        Some(path) if path.exists() => AgentSession::load(path)?,
        _ => AgentSession::new(),
    };

    let mut builder = ChatAgent::builder(provider.client)
        .name("weft")
        .description("The weft CLI's demo agent")
        .tool(demo_tools::get_weather())
        .tool(demo_tools::add());
    if let Some(instructions) = &args.instructions {
        builder = builder.instructions(instructions.clone());
    }
    if let Some(model) = args.model.clone().or(provider.model) {
        builder = builder.model(model);
    }
    if let Some(limit) = args.max_iterations {
        builder = builder.max_iterations(limit as usize);
    }
    let agent = builder.build();

    let mut renderer = Renderer::new(args.json);
    let result = stream_run(&agent, &mut session, prompt, &mut renderer).await;
    let result = match result {
        Ok(()) => match &args.session {
            Some(path) => save_session(&session, path),
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

/// Streams the run into the renderer; Ctrl-C drops the run (and leaves the session as it was).
async fn stream_run(
    agent: &ChatAgent,
    session: &mut AgentSession,
    prompt: String,
    renderer: &mut Renderer,
) -> Result<(), CliError> {
    let mut stream = agent.run_stream(session, prompt);
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
fn read_prompt(argument: &str) -> Result<String, CliError> {
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

/// Writes the session next to its file and renames it into place, so that a failed write never
/// leaves half a session behind.
fn save_session(session: &AgentSession, path: &Path) -> Result<(), CliError> {
    let json = session.to_json()?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = std::path::PathBuf::from(temporary);
    let io_error = |source| CliError::Io {
        context: format!("could not save the session to {}", path.display()),
        source,
    };
    std::fs::write(&temporary, json).map_err(io_error)?;
    std::fs::rename(&temporary, path).map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        io_error(source)
    })
}
