//! `weft run -f workflow.yaml "input"`: runs a declarative workflow, streaming its events,
//! asking for human input (on the terminal, or one answer per line of stdin), and resuming
//! from a checkpoint (`--checkpoint DIR --resume ID`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use weft::Message;
use weft::declarative::{HumanInputRequest, LoadedWorkflow, WorkflowOptions};
use weft::workflow::{
    AgentApprovalRequest, FileCheckpointStore, HandoffUserRequest, InMemoryCheckpointStore, PendingRequest,
    PlanReview, PlanReviewRequest, RequestResponse, RunStatus, Workflow, WorkflowAgent, WorkflowEvent,
};

use crate::RunArgs;
use crate::error::CliError;

/// The workflow of `file` as an agent (for `weft serve`), named after the workflow, and what it
/// is. Its agents' MCP servers are added to `sources` (the caller closes them). Requests for
/// human input end the response with a `request_info` function call, answered by the next
/// request: unless the file names its own checkpoint store, the paused runs are kept in the
/// server's `store` (so with a SQLite store they outlive the process).
pub(crate) async fn agent(
    file: &Path,
    args: &RunArgs,
    sources: &mut Vec<weft_mcp::McpSource>,
    store: Arc<dyn weft::host::SessionStore>,
) -> Result<(Arc<dyn weft::Agent>, String, crate::workflow_host::WorkflowEntity), CliError> {
    let checkpoints = Arc::new(crate::workflow_host::SessionCheckpoints::new(store));
    let loaded = load(file, args, checkpoints.clone()).await?;
    // Named before any run: its checkpoints are kept under the name it is served as.
    checkpoints.name(&loaded.name);
    sources.extend(loaded.sources);
    let workflow = loaded.workflow;
    let entity = crate::workflow_host::entity(&workflow);
    let description = format!("a workflow of {} executors", workflow.executor_ids().len());
    let mut agent = WorkflowAgent::new(loaded.name, workflow)
        .map_err(|e| CliError::Workflow(format!("{}: {e}", file.display())))?;
    if let Some(text) = loaded.description {
        agent = agent.with_description(text);
    }
    Ok((Arc::new(agent), description, entity))
}

/// Loads `file`; `default_checkpoint` keeps its checkpoints when the file names no store.
pub(crate) async fn load(
    file: &Path,
    args: &RunArgs,
    default_checkpoint: Arc<dyn weft::workflow::CheckpointStore>,
) -> Result<LoadedWorkflow, CliError> {
    let options = WorkflowOptions {
        agent: crate::declarative::load_options(args)?,
        checkpoint: args.checkpoint.as_ref().map(|dir| Arc::new(FileCheckpointStore::new(dir.clone())) as _),
        // Human input needs a checkpoint to answer from, even when the file keeps none.
        default_checkpoint: Some(default_checkpoint),
    };
    let bindings = crate::declarative::bindings();
    weft::declarative::load_workflow_with(file, &bindings, &options)
        .await
        .map_err(crate::declarative::load_error)
}

/// Runs the workflow of `file` on `prompt` (or resumes it), then closes its MCP servers.
pub(crate) async fn run(file: &Path, args: &RunArgs) -> Result<(), CliError> {
    let prompt = match (&args.resume, &args.prompt) {
        (Some(_), _) => None,
        (None, Some(prompt)) => Some(crate::run::read_prompt(prompt)?),
        (None, None) => {
            return Err(CliError::Usage("give the workflow's input, or --resume CHECKPOINT".into()));
        }
    };
    let ignored = [
        ("--session", args.session.is_some()),
        ("--instructions", args.agent.instructions.is_some()),
        ("--mcp", !args.agent.mcp.is_empty()),
        ("--max-iterations", args.agent.max_iterations.is_some()),
    ];
    if let Some((flag, _)) = ignored.iter().find(|(_, given)| *given) {
        return Err(CliError::Usage(format!(
            "{flag} does not apply to a workflow file: its agents' files say their models, tools and instructions"
        )));
    }
    let loaded = load(file, args, Arc::new(InMemoryCheckpointStore::new())).await?;
    let answers_from_stdin = args.prompt.as_deref() != Some("-");
    let resume_flags = match &args.checkpoint {
        Some(dir) => Some(format!(" --checkpoint {}", dir.display())),
        None => loaded.durable_checkpoints.then(String::new),
    };
    let mut driver = Driver { json: args.json, answers_from_stdin, resume_flags };
    let result = driver.drive(&loaded.workflow, prompt, args.resume.as_deref(), file).await;
    for source in &loaded.sources {
        source.close().await;
    }
    result
}

struct Driver {
    json: bool,
    answers_from_stdin: bool,
    /// The flags that find the checkpoints again (`None`: they are kept in memory only).
    resume_flags: Option<String>,
}

/// How one stream of events ended.
struct Ending {
    status: RunStatus,
    checkpoint: Option<String>,
    pending: Vec<PendingRequest>,
    error: Option<String>,
}

impl Driver {
    async fn drive(
        &mut self,
        workflow: &Workflow,
        prompt: Option<String>,
        resume: Option<&str>,
        file: &Path,
    ) -> Result<(), CliError> {
        let mut stream: BoxStream<'static, WorkflowEvent> = match (prompt, resume) {
            (Some(prompt), _) => workflow.run_stream(vec![Message::user(prompt)]),
            (None, Some(id)) => {
                let store = workflow.checkpoint_store().ok_or_else(|| {
                    CliError::Usage("--resume needs --checkpoint DIR (or a `checkpoint` in the file)".into())
                })?;
                let checkpoint = store
                    .load(id)
                    .await
                    .map_err(|e| CliError::Workflow(format!("could not load checkpoint {id}: {e}")))?;
                if checkpoint.pending_requests.is_empty() {
                    workflow.resume_stream(id)
                } else {
                    let answers = self.answer(&checkpoint.pending_requests, id, file).await?;
                    workflow.send_responses_stream(id, answers)
                }
            }
            (None, None) => return Err(CliError::Usage("nothing to run".into())),
        };
        loop {
            let ending = self.show(&mut stream).await?;
            if let Some(error) = ending.error {
                return Err(CliError::Workflow(error));
            }
            if ending.status != RunStatus::IdleWithPendingRequests {
                return self.done(ending.status);
            }
            let Some(checkpoint) = ending.checkpoint else {
                return Err(CliError::Workflow(
                    "the run waits for input but saved no checkpoint to answer from".into(),
                ));
            };
            let answers = self.answer(&ending.pending, &checkpoint, file).await?;
            stream = workflow.send_responses_stream(&checkpoint, answers);
        }
    }

    /// Shows a stream's events until it ends (Ctrl-C drops the run).
    async fn show(&mut self, stream: &mut BoxStream<'static, WorkflowEvent>) -> Result<Ending, CliError> {
        let mut ending =
            Ending { status: RunStatus::Idle, checkpoint: None, pending: Vec::new(), error: None };
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        loop {
            let event = tokio::select! {
                biased;
                _ = &mut interrupt => return Err(CliError::Interrupted),
                next = stream.next() => match next {
                    Some(event) => event,
                    None => return Ok(ending),
                },
            };
            match &event {
                WorkflowEvent::Status { status } => ending.status = *status,
                WorkflowEvent::CheckpointSaved { checkpoint_id, .. } => {
                    ending.checkpoint = Some(checkpoint_id.clone())
                }
                WorkflowEvent::RequestInfo(request) => ending.pending.push(request.clone()),
                WorkflowEvent::Failed { error } => ending.error = Some(error.to_string()),
                _ => {}
            }
            self.render(&event)?;
        }
    }

    fn render(&self, event: &WorkflowEvent) -> Result<(), CliError> {
        if self.json {
            if let Some(line) = json_event(event) {
                print_line(&line.to_string())?;
            }
            return Ok(());
        }
        match event {
            WorkflowEvent::Started { run_id, resumed_from } => match resumed_from {
                Some(from) => crate::logging::notice(format_args!("run {run_id} resumed from {from}")),
                None => crate::logging::notice(format_args!("run {run_id}")),
            },
            WorkflowEvent::ExecutorInvoked { executor_id, .. } => {
                crate::logging::notice(format_args!("▸ {executor_id}"));
            }
            WorkflowEvent::ExecutorFailed { executor_id, error, .. } => {
                crate::logging::notice(format_args!("✗ {executor_id}: {error}"));
            }
            WorkflowEvent::Output(output) => {
                for line in output_lines(&output.value.to_json().unwrap_or(Value::Null)) {
                    print_line(&format!("[{}] {line}", output.executor_id))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn done(&self, status: RunStatus) -> Result<(), CliError> {
        if self.json {
            print_line(&json!({"type": "done", "status": status}).to_string())?;
        }
        Ok(())
    }

    /// Asks for every pending request's answer.
    /// Asks for every pending request's answer: on the terminal, or one line of stdin each
    /// (from `/dev/tty` when stdin carried the input, as `--approve` does).
    async fn answer(
        &mut self,
        pending: &[PendingRequest],
        checkpoint: &str,
        file: &Path,
    ) -> Result<Vec<RequestResponse>, CliError> {
        let from_tty = !self.answers_from_stdin;
        let mut answers = Vec::new();
        for request in pending {
            eprintln!("weft: {}", question(request));
            // Off the runtime's thread: a blocking read would stall it.
            let line = tokio::task::spawn_blocking(move || read_line(from_tty))
                .await
                .map_err(|e| CliError::Workflow(format!("could not read the answer: {e}")))??;
            let Some(line) = line else {
                let why = if from_tty {
                    "no terminal could be read (the input came from stdin)"
                } else {
                    "stdin ended before the answer"
                };
                return Err(self.waiting(checkpoint, file, why));
            };
            answers.push(response(request, &line)?);
        }
        Ok(answers)
    }

    fn waiting(&self, checkpoint: &str, file: &Path, why: &str) -> CliError {
        let resume = match &self.resume_flags {
            Some(flags) => {
                format!("; answer later with `weft run -f {}{flags} --resume {checkpoint}`", file.display())
            }
            None => "; give --checkpoint DIR to answer later with --resume".into(),
        };
        CliError::Workflow(format!("the workflow waits for input and {why}{resume}"))
    }
}

/// One answer line: from `/dev/tty` (`from_tty`) or stdin, with a `> ` prompt on a terminal;
/// `None` when the input ended or no terminal could be opened.
fn read_line(from_tty: bool) -> Result<Option<String>, CliError> {
    let io_error = |source| CliError::Io { context: "could not read the answer".into(), source };
    let mut input: Box<dyn BufRead> = if from_tty {
        match std::fs::File::open("/dev/tty") {
            Ok(tty) => Box::new(std::io::BufReader::new(tty)),
            Err(_) => return Ok(None),
        }
    } else {
        Box::new(std::io::stdin().lock())
    };
    if from_tty || std::io::stdin().is_terminal() {
        eprint!("> ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let read = input.read_line(&mut line).map_err(io_error)?;
    Ok((read > 0).then(|| line.trim_end_matches(['\n', '\r']).to_string()))
}

/// What to ask the user for a request.
fn question(request: &PendingRequest) -> String {
    if let Ok(asked) = request.data_as::<HumanInputRequest>() {
        return format!("[{}] {}", asked.executor, asked.prompt);
    }
    if let Ok(asked) = request.data_as::<HandoffUserRequest>() {
        let last = asked.conversation.last().map(Message::text).unwrap_or_default();
        return format!("[{}] {last}\nweft: your reply (empty ends the conversation):", asked.agent);
    }
    if let Ok(asked) = request.data_as::<AgentApprovalRequest>() {
        let calls: Vec<String> =
            asked.requests.iter().map(|r| format!("{}({})", r.call.name, r.call.arguments)).collect();
        return format!("[{}] approve {}? (y/n)", asked.agent, calls.join(", "));
    }
    if let Ok(asked) = request.data_as::<PlanReviewRequest>() {
        return format!(
            "[{}] the plan:\n{}\nweft: approve it (empty or `yes`), or say what to change:",
            request.executor_id, asked.plan.plan
        );
    }
    format!("[{}] {} (answer with JSON): {}", request.executor_id, request.request_type, request.data)
}

/// The answer to a request, from the user's line.
fn response(request: &PendingRequest, line: &str) -> Result<RequestResponse, CliError> {
    let id = request.request_id.clone();
    if request.data_as::<HumanInputRequest>().is_ok() || request.data_as::<HandoffUserRequest>().is_ok() {
        return Ok(RequestResponse::new(id, line.to_string()));
    }
    if let Ok(asked) = request.data_as::<AgentApprovalRequest>() {
        let yes = matches!(line.trim().to_lowercase().as_str(), "y" | "yes");
        return Ok(RequestResponse::new(id, if yes { asked.approve_all() } else { asked.reject_all() }));
    }
    if request.data_as::<PlanReviewRequest>().is_ok() {
        let review = match line.trim() {
            "" | "y" | "yes" => PlanReview::Approve,
            feedback => PlanReview::Revise { feedback: feedback.to_string() },
        };
        return Ok(RequestResponse::new(id, review));
    }
    let value: Value = serde_json::from_str(line)
        .map_err(|e| CliError::Usage(format!("the answer to {} must be JSON: {e}", request.request_type)))?;
    Ok(RequestResponse::json(id, value))
}

/// An output's text, one line per message (a conversation), or its JSON.
fn output_lines(value: &Value) -> Vec<String> {
    let messages: Option<Vec<Message>> = serde_json::from_value(value.clone()).ok();
    match messages {
        Some(messages) => messages
            .iter()
            .filter(|m| !m.text().trim().is_empty())
            .map(|m| match &m.author_name {
                Some(author) => format!("{author}: {}", m.text()),
                None => m.text(),
            })
            .collect(),
        None => vec![value.to_string()],
    }
}

/// The JSON line of an event (`None`: not shown).
fn json_event(event: &WorkflowEvent) -> Option<Value> {
    Some(match event {
        WorkflowEvent::Started { run_id, resumed_from } => {
            json!({"type": "started", "run_id": run_id, "resumed_from": resumed_from})
        }
        WorkflowEvent::ExecutorInvoked { executor_id, superstep } => {
            json!({"type": "executor_invoked", "executor": executor_id, "superstep": superstep})
        }
        WorkflowEvent::ExecutorCompleted { executor_id, superstep } => {
            json!({"type": "executor_completed", "executor": executor_id, "superstep": superstep})
        }
        WorkflowEvent::ExecutorFailed { executor_id, error, .. } => {
            json!({"type": "executor_failed", "executor": executor_id, "error": error})
        }
        WorkflowEvent::AgentUpdate { executor_id, update } => {
            let text: String = update
                .contents
                .iter()
                .filter_map(|c| match c {
                    weft::Content::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            if text.is_empty() {
                return None;
            }
            json!({"type": "agent_text", "executor": executor_id, "text": text})
        }
        WorkflowEvent::Output(output) => json!({
            "type": "output",
            "executor": output.executor_id,
            "value": output.value.to_json().unwrap_or(Value::Null),
        }),
        WorkflowEvent::RequestInfo(request) => json!({
            "type": "request",
            "request_id": request.request_id,
            "executor": request.executor_id,
            "request_type": request.request_type,
            "data": request.data,
        }),
        WorkflowEvent::CheckpointSaved { checkpoint_id, superstep } => {
            json!({"type": "checkpoint", "checkpoint_id": checkpoint_id, "superstep": superstep})
        }
        WorkflowEvent::Failed { error } => json!({"type": "failed", "message": error.to_string()}),
        _ => return None,
    })
}

fn print_line(line: &str) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}")
        .map_err(|source| CliError::Io { context: "could not write to stdout".into(), source })
}
