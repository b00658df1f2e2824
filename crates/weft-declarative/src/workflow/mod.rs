//! Workflow files: Weft's own format for graphs of agents, functions, human input and
//! sub-workflows, and for the prebuilt multi-agent orchestrations.
//!
//! ```yaml
//! kind: Workflow
//! name: review
//! start: writer
//! checkpoint: file:checkpoints        # or memory, or sqlite:checkpoints.db
//! executors:
//!   - id: writer
//!     agent: agents/writer.yaml       # a path (relative to this file) or an inline agent
//!   - id: approve
//!     request: Publish this draft? (yes/no)   # human input
//!   - id: publish
//!     function: publish               # a Rust function registered with Bindings::executor
//!   - id: rework
//!     workflow: rework.yaml           # a sub-workflow
//! edges:
//!   - from: writer
//!     to: approve
//!   - from: approve
//!     switch:
//!       - when: message.text contains 'yes'
//!         to: publish
//!     default: rework
//! outputs: [publish, rework]
//! ```
//!
//! Every executor takes and sends a conversation (`Vec<Message>`): an agent appends its answer,
//! a `request` executor asks a [`HumanInputRequest`] and appends the answer as a user message,
//! a `function` returns the conversation to send on, a `workflow` sends on its outputs. So any
//! executor may follow any other, and type mismatches cannot happen. The run's input is the
//! conversation (`vec![Message::user(…)]`). An executor listed in `outputs` (default: every
//! executor with no outgoing edge) yields the messages it added as a workflow output.
//!
//! Edges: `to: b` (direct); with `when:` (an expression, see below) or `predicate:` (a
//! condition registered with [`Bindings::predicate`](crate::Bindings::predicate)), conditional;
//! `to: [b, c]`, a fan-out; `from: [b, c]`, a fan-in (once every source has sent, the target
//! gets one conversation: the common beginning, then what each branch added, in order; an
//! executor `<target>.join` does the joining and shows in the run's events); `switch:` cases
//! (`when` or `predicate`, and `to`) tried in order, then `default`. A cycle is allowed when
//! one of its edges is conditional (a loop that ends).
//!
//! Conditions: `message.text contains 'approve'`, with `equals`, `startsWith`, `endsWith`,
//! the fields `message.text`, `message.role` and `message.author` (of the last message), and
//! `not`, `and`, `or` and parentheses.
//!
//! Checks, each a [`Problem`] at its `file:line:col`: unknown fields (with a
//! "did you mean"), wrong types, missing fields, unknown executors, bindings and predicates,
//! executors not reachable from the start, a cycle of unconditional edges (it would never end),
//! a sub-workflow that includes itself, and everything agent files are checked for.
//!
//! Orchestrations: `orchestration: sequential | concurrent | handoff | group_chat | magentic`
//! with `participants` (agent paths or inline agents, each with a unique `name`) and the options
//! of their builders: `manager` (group_chat: the agent that picks the next speaker, default
//! round robin; magentic: the manager, required), `maxRounds` (group_chat, magentic),
//! `terminate` (group_chat: end the chat when a condition holds after a turn, `when:` an
//! expression as on edges or `predicate:` a registered one), `aggregator` (concurrent: a
//! function registered with [`Bindings::aggregator`](crate::Bindings::aggregator) that joins
//! what each participant added into the output; default each one's last message),
//! `maxStalls`, `maxResets`, `planReview` (magentic), `start`, `handoffs` (a map from an agent
//! to those it may hand off to) and `humanInput` (handoff).
//!
//! ```yaml
//! kind: Workflow
//! orchestration: group_chat
//! maxRounds: 6
//! terminate: { when: "message.text contains 'DONE'" }   # or { predicate: enough }
//! participants: [writer.yaml, critic.yaml]
//! ```

mod assemble;
mod check;
pub mod expr;
mod nodes;
mod orchestration;
mod rules;
pub mod spec;

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use weft_workflow::{CheckpointStore, Workflow};

pub use nodes::HumanInputRequest;

use crate::bindings::Bindings;
use crate::build::LoadOptions;
use crate::error::{LoadError, Problem};
use crate::parse::{parse_as, read_file};
use check::{Context, WorkflowPlan};
use spec::{KindOnly, WorkflowSpec};

/// What a workflow file names as its empty content.
const WHAT: &str = "a workflow (`kind: Workflow` …)";

/// A workflow loaded from a file.
pub struct LoadedWorkflow {
    /// The workflow: run it with `vec![Message::user(…)]`.
    pub workflow: Workflow,
    /// The file's `name` (default `workflow`; an orchestration's `Workflow` keeps its builder's
    /// name, e.g. `sequential`, so use this one to name it).
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Whether its checkpoints outlive the process: the file's `checkpoint` is `file:` or
    /// `sqlite:` (and no [`WorkflowOptions::checkpoint`] replaced it).
    pub durable_checkpoints: bool,
    /// The connected MCP servers of its agents' `kind: mcp` tools: the caller owns them and
    /// closes them (`McpSource::close`) when done.
    #[cfg(feature = "mcp")]
    pub sources: Vec<weft_mcp::McpSource>,
}

impl std::fmt::Debug for LoadedWorkflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedWorkflow").field("workflow", &self.workflow).finish_non_exhaustive()
    }
}

/// How to load a workflow besides the file.
#[derive(Clone, Default)]
pub struct WorkflowOptions {
    /// The agents' deadlines.
    pub agent: LoadOptions,
    /// A checkpoint store that replaces the file's `checkpoint`.
    pub checkpoint: Option<Arc<dyn CheckpointStore>>,
    /// A checkpoint store used when the file has no `checkpoint` (e.g. in memory, so that
    /// human input can be answered).
    pub default_checkpoint: Option<Arc<dyn CheckpointStore>>,
}

impl std::fmt::Debug for WorkflowOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowOptions")
            .field("agent", &self.agent)
            .field("checkpoint", &self.checkpoint.is_some())
            .field("default_checkpoint", &self.default_checkpoint.is_some())
            .finish()
    }
}

/// Reads, checks and builds the workflow of `path` (agent files and sub-workflows it names are
/// read relative to it), and connects its agents' MCP tools.
pub async fn load_workflow(path: impl AsRef<Path>, bindings: &Bindings) -> Result<LoadedWorkflow, LoadError> {
    load_workflow_with(path, bindings, &WorkflowOptions::default()).await
}

/// [`load_workflow`] with options.
pub async fn load_workflow_with(
    path: impl AsRef<Path>,
    bindings: &Bindings,
    options: &WorkflowOptions,
) -> Result<LoadedWorkflow, LoadError> {
    let path = path.as_ref();
    let mut context = Context { bindings, options: &options.agent, stack: vec![canonical(path)] };
    let plan = plan_file(path, &mut context)?;
    finish(plan, options).await
}

/// [`load_workflow`] for text (problems name the file `<string>`; relative paths start at the
/// current directory).
///
/// ```
/// use weft_core::Message;
/// use weft_declarative::{Bindings, workflow_from_str};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bindings = Bindings::new()
///     .executor("shout", |mut conversation: Vec<Message>| async move {
///         let text = conversation.last().map(Message::text).unwrap_or_default();
///         conversation.push(Message::assistant(text.to_uppercase()));
///         Ok::<_, String>(conversation)
///     })
///     .predicate("is_question", |conversation: &[Message]| {
///         conversation.last().is_some_and(|m| m.text().ends_with('?'))
///     });
/// let yaml = r"
/// kind: Workflow
/// executors:
///   - { id: shout, function: shout }
///   - { id: answer, agent: { kind: Prompt, name: answer, model: { provider: scripted } } }
/// edges:
///   - { from: shout, to: answer, predicate: is_question }   # or: when: message.text endsWith '?'
/// outputs: [shout, answer]
/// ";
/// let loaded = workflow_from_str(yaml, &bindings).await?;
/// let result = loaded.workflow.run(vec![Message::user("ready?")]).await?;
/// let texts: Vec<String> =
///     result.outputs_as::<Vec<Message>>().iter().flatten().map(Message::text).collect();
/// assert_eq!(texts, ["READY?", "You said: ready?"]);
/// # Ok(()) }
/// ```
pub async fn workflow_from_str(text: &str, bindings: &Bindings) -> Result<LoadedWorkflow, LoadError> {
    let options = WorkflowOptions::default();
    let mut context = Context { bindings, options: &options.agent, stack: Vec::new() };
    let plan = plan_str(text, Path::new(crate::STRING_SOURCE), Path::new("."), &mut context)?;
    finish(plan, &options).await
}

/// Checks `path` as [`load_workflow`] does, without connecting or opening anything.
pub fn validate_workflow(path: impl AsRef<Path>, bindings: &Bindings) -> Result<(), LoadError> {
    let path = path.as_ref();
    let options = LoadOptions::default();
    let mut context = Context { bindings, options: &options, stack: vec![canonical(path)] };
    plan_file(path, &mut context).map(|_| ())
}

/// What a declarative file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An agent (`kind: Prompt` or `Agent`, or no kind: the agent checks report it).
    Agent,
    /// A workflow (`kind: Workflow`).
    Workflow,
}

/// Whether `path` holds an agent or a workflow, by its `kind` (a file that cannot be read or
/// parsed counts as an agent: loading it reports why).
pub fn file_kind(path: impl AsRef<Path>) -> FileKind {
    match read_file(path.as_ref()) {
        Ok(text) => text_kind(&text),
        Err(_) => FileKind::Agent,
    }
}

/// [`file_kind`] for text.
pub fn text_kind(text: &str) -> FileKind {
    match parse_as::<KindOnly>(text, Path::new(crate::STRING_SOURCE), WHAT) {
        Ok(KindOnly { kind: Some(kind) }) if kind == "Workflow" => FileKind::Workflow,
        _ => FileKind::Agent,
    }
}

/// Checks an agent or workflow file, by its `kind`.
pub fn validate_file(path: impl AsRef<Path>, bindings: &Bindings) -> Result<FileKind, LoadError> {
    let path = path.as_ref();
    match file_kind(path) {
        FileKind::Workflow => validate_workflow(path, bindings).map(|()| FileKind::Workflow),
        FileKind::Agent => crate::validate(path, bindings).map(|()| FileKind::Agent),
    }
}

/// Parses a workflow file's text. `file` names it in the problems.
pub fn parse_workflow(text: &str, file: &Path) -> Result<WorkflowSpec, Problem> {
    parse_as(text, file, WHAT)
}

/// The JSON Schema of workflow files, for editors (yaml-language-server).
pub fn workflow_json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(WorkflowSpec)).unwrap_or(Value::Null)
}

fn canonical(path: &Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

pub(crate) fn plan_file(path: &Path, context: &mut Context<'_>) -> Result<WorkflowPlan, LoadError> {
    let text = read_file(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    plan_str(&text, path, dir, context)
}

fn plan_str(
    text: &str,
    file: &Path,
    dir: &Path,
    context: &mut Context<'_>,
) -> Result<WorkflowPlan, LoadError> {
    let spec = parse_workflow(text, file).map_err(|problem| LoadError::Invalid(vec![problem]))?;
    check::plan(&spec, text, file, dir, context)
}

async fn finish(plan: WorkflowPlan, options: &WorkflowOptions) -> Result<LoadedWorkflow, LoadError> {
    let description = plan.description.clone();
    let name = plan.name.clone();
    let durable_checkpoints = options.checkpoint.is_none()
        && matches!(plan.store, check::StorePlan::File(_) | check::StorePlan::Sqlite(..));
    let store = options.checkpoint.clone().or_else(|| match plan.store {
        check::StorePlan::None => options.default_checkpoint.clone(),
        _ => None,
    });
    let mut sources = Vec::new();
    let built = assemble::build(plan, store, &mut sources).await;
    match built {
        Ok(workflow) => Ok(LoadedWorkflow {
            workflow,
            name,
            description,
            durable_checkpoints,
            #[cfg(feature = "mcp")]
            sources,
        }),
        Err(error) => {
            #[cfg(feature = "mcp")]
            for source in &sources {
                source.close().await;
            }
            Err(error)
        }
    }
}
