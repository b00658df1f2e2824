//! `weft chat`: the agent of `weft run`, one prompt per line, the conversation kept between
//! them. On a terminal, lines are read with rustyline (editing, history); from a pipe, each
//! line is a prompt, so a conversation can be scripted.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use tokio::sync::oneshot;
use weft::{AgentSession, ChatAgent, RunInput};

use crate::RunArgs;
use crate::approve::Approver;
use crate::error::CliError;
use crate::logging::notice;
use crate::output::Renderer;
use crate::{provider, run};

/// The commands a line can be, shown by `/help`.
const COMMANDS: &str = "\
/reset       forget the conversation
/save FILE   write the conversation to FILE (continue it with `weft chat --session FILE`)
/help        this list
/exit        leave (as does Ctrl-D)";

/// What one input line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// Nothing (an empty line).
    Empty,
    /// A prompt for the agent.
    Prompt(&'a str),
    /// `/reset`.
    Reset,
    /// `/save FILE`.
    Save(&'a str),
    /// `/help`.
    Help,
    /// `/exit` or `/quit`.
    Exit,
    /// A `/command` that is none of the above, or `/save` without a file.
    Unknown(&'a str),
}

/// Reads one line as a command or a prompt.
fn parse_line(line: &str) -> Line<'_> {
    let line = line.trim();
    let Some(command) = line.strip_prefix('/') else {
        return if line.is_empty() { Line::Empty } else { Line::Prompt(line) };
    };
    let (name, rest) = command.split_once(char::is_whitespace).unwrap_or((command, ""));
    match (name, rest.trim()) {
        ("reset", "") => Line::Reset,
        ("save", file) if !file.is_empty() => Line::Save(file),
        ("help", _) => Line::Help,
        ("exit" | "quit", _) => Line::Exit,
        _ => Line::Unknown(line),
    }
}

/// Runs the chat until the input ends or `/exit`. The MCP servers of `--mcp` are connected
/// first and closed at the end, whatever happened.
pub(crate) async fn run(args: RunArgs) -> Result<(), CliError> {
    if args.checkpoint.is_some() || args.resume.is_some() {
        return Err(CliError::Usage(
            "--checkpoint and --resume apply to `weft run -f workflow.yaml` only".into(),
        ));
    }
    let provider = if args.file.is_none() { Some(provider::select(&args)?) } else { None };
    let interactive = std::io::stdin().is_terminal();
    let approver = args.approve.then(|| Approver::new(false));
    let mut sources = Vec::new();
    let result = match run::connect_servers(&args, approver.as_ref(), &mut sources).await {
        Ok(()) => match run::make_agent(&args, provider, approver.as_ref(), &mut sources).await {
            Ok((agent, description)) => {
                let chat = converse(&args, agent, description, approver, interactive);
                crate::progress::while_running(&sources, chat).await
            }
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    run::close_all(&sources, result).await
}

async fn converse(
    args: &RunArgs,
    agent: ChatAgent,
    description: String,
    approver: Option<Approver>,
    interactive: bool,
) -> Result<(), CliError> {
    notice(format_args!("using {description}"));
    let mut session = match &args.session {
        Some(path) if path.exists() => AgentSession::load(path)?,
        _ => AgentSession::new(),
    };
    if interactive {
        notice(format_args!("type a prompt; /help for commands, Ctrl-D to leave"));
    }
    let mut input = LineReader::spawn(interactive);
    // From a pipe, the exit code says whether a turn failed (the error was shown already).
    let mut failed = None;
    let prompt = args.prompt.as_deref().unwrap_or_default();
    if !prompt.trim().is_empty() {
        failed = turn(&agent, &mut session, prompt, args, approver.as_ref()).await.err();
    }
    while let Some(line) = input.next_line().await? {
        match parse_line(&line) {
            Line::Empty => {}
            Line::Prompt(prompt) => {
                if let Err(code) = turn(&agent, &mut session, prompt, args, approver.as_ref()).await {
                    failed = Some(code);
                }
            }
            Line::Reset => {
                session = AgentSession::new();
                notice(format_args!("the conversation is forgotten"));
            }
            Line::Save(file) => {
                match session.save_async(Path::new(file).to_path_buf()).await.map_err(CliError::from) {
                    Ok(()) => notice(format_args!("saved the conversation to {file}")),
                    Err(error) => failed = Some(show(&error)),
                }
            }
            Line::Help => eprintln!("{COMMANDS}"),
            Line::Exit => break,
            Line::Unknown(command) => {
                eprintln!("weft: unknown command {command}; /help lists the commands");
            }
        }
    }
    match failed {
        Some(code) if !interactive => Err(CliError::Reported(code)),
        _ => Ok(()),
    }
}

/// One prompt: the agent's answer streamed, approvals asked, the session saved (`--session`).
/// A failure is shown and its exit code returned; the chat goes on.
async fn turn(
    agent: &ChatAgent,
    session: &mut AgentSession,
    prompt: &str,
    args: &RunArgs,
    approver: Option<&Approver>,
) -> Result<(), u8> {
    let mut renderer = Renderer::new(args.json);
    let mut input = RunInput::from(prompt.to_string());
    let result = loop {
        if let Err(error) = run::stream_run(agent, session, input, &mut renderer).await {
            break Err(error);
        }
        let pending = session.pending_approvals();
        let Some(approver) = approver.filter(|_| !pending.is_empty()) else { break Ok(()) };
        renderer.approvals_answered(pending.len());
        match approver.ask(pending).await {
            Ok(answers) => input = RunInput::from(answers),
            Err(error) => break Err(error),
        }
    };
    let result = match (result, &args.session) {
        (Ok(()), Some(path)) => session.save_async(path.clone()).await.map_err(CliError::from),
        (result, _) => result,
    };
    let result = result.and_then(|()| renderer.done(args.session.as_deref()));
    result.map_err(|error| {
        renderer.failed(&error);
        show(&error)
    })
}

/// Shows an error the way `main` would, and returns its exit code.
fn show(error: &CliError) -> u8 {
    let _ = crate::error::report(error);
    error.exit_code()
}

/// Where the history of the terminal's lines is kept: `WEFT_HISTORY`, else `~/.weft_history`.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("WEFT_HISTORY") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| Path::new(&home).join(".weft_history")),
    }
}

/// A request for one line: where to send it (`None` at the end of input).
type LineRequest = oneshot::Sender<Result<Option<String>, std::io::Error>>;

/// Reads input lines on a thread of its own, one line per request: reading ahead would take
/// the lines `--approve` reads its answers from, and a blocking read must not hold up the
/// runtime (MCP connections keep working between prompts). Ctrl-C while waiting ends the chat.
struct LineReader {
    requests: Option<std_mpsc::Sender<LineRequest>>,
    /// Not joined: at the end of input it has returned; otherwise it may be blocked in a read
    /// that only the end of the process ends (there is no portable way to interrupt it).
    _thread: Option<std::thread::JoinHandle<()>>,
}

impl LineReader {
    /// A reader of the terminal (rustyline) when `interactive`, else of stdin's lines.
    fn spawn(interactive: bool) -> Self {
        let (requests, incoming) = std_mpsc::channel::<LineRequest>();
        let thread = std::thread::Builder::new().name("weft-chat-input".into()).spawn(move || {
            let mut editor = if interactive { Editor::open() } else { None };
            while let Ok(reply) = incoming.recv() {
                let line = match editor.as_mut() {
                    Some(editor) => editor.read(),
                    None => read_stdin_line(),
                };
                if reply.send(line).is_err() {
                    return;
                }
            }
        });
        match thread {
            Ok(thread) => Self { requests: Some(requests), _thread: Some(thread) },
            Err(error) => {
                tracing::warn!(%error, "could not start the input thread");
                Self { requests: None, _thread: None }
            }
        }
    }

    /// The next line, or `None` at the end of input.
    async fn next_line(&mut self) -> Result<Option<String>, CliError> {
        let Some(requests) = &self.requests else { return Ok(None) };
        let (reply, answer) = oneshot::channel();
        if requests.send(reply).is_err() {
            return Ok(None);
        }
        let interrupt = tokio::signal::ctrl_c();
        tokio::select! {
            _ = interrupt => Err(CliError::Interrupted),
            line = answer => match line {
                Ok(Ok(line)) => Ok(line),
                Ok(Err(source)) => Err(CliError::Io { context: "could not read the input".into(), source }),
                Err(_) => Ok(None),
            },
        }
    }
}

/// One line of stdin without its line ending; `None` at the end.
fn read_stdin_line() -> Result<Option<String>, std::io::Error> {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
}

/// rustyline with the history file.
struct Editor {
    editor: DefaultEditor,
    history: Option<PathBuf>,
}

impl Editor {
    fn open() -> Option<Self> {
        let mut editor = match DefaultEditor::new() {
            Ok(editor) => editor,
            Err(error) => {
                tracing::warn!(%error, "no line editing: reading plain lines");
                return None;
            }
        };
        let history = history_path();
        if let Some(path) = history.as_ref().filter(|path| path.exists()) {
            if let Err(error) = editor.load_history(path) {
                tracing::warn!(%error, path = %path.display(), "could not load the history");
            }
        }
        Some(Self { editor, history })
    }

    /// Reads a line: Ctrl-C abandons the line being typed, Ctrl-D on an empty line ends.
    fn read(&mut self) -> Result<Option<String>, std::io::Error> {
        loop {
            match self.editor.readline("you> ") {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = self.editor.add_history_entry(line.as_str());
                        if let Some(path) = &self.history {
                            if let Err(error) = self.editor.save_history(path) {
                                tracing::debug!(%error, path = %path.display(), "could not save the history");
                            }
                        }
                    }
                    return Ok(Some(line));
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => return Ok(None),
                Err(ReadlineError::Io(error)) => return Err(error),
                Err(other) => return Err(std::io::Error::other(other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_prompts_or_commands() {
        assert_eq!(parse_line("  hello there \n"), Line::Prompt("hello there"));
        assert_eq!(parse_line("   "), Line::Empty);
        assert_eq!(parse_line("/reset"), Line::Reset);
        assert_eq!(parse_line("/save  chat.json "), Line::Save("chat.json"));
        assert_eq!(parse_line("/save"), Line::Unknown("/save"));
        assert_eq!(parse_line("/exit"), Line::Exit);
        assert_eq!(parse_line("/quit"), Line::Exit);
        assert_eq!(parse_line("/help"), Line::Help);
        assert_eq!(parse_line("/nope x"), Line::Unknown("/nope x"));
    }
}
