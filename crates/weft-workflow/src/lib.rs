//! # weft-workflow
//!
//! Workflows for Weft: typed [`Executor`]s connected by edges, run in supersteps
//! (Pregel / bulk-synchronous parallel), with portable JSON checkpoints and requests to the
//! outside (human in the loop).
//!
//! - An executor handles messages of one type and, through its [`WorkflowContext`], sends
//!   messages onward, yields workflow outputs, emits events, reads and writes shared state, and
//!   asks the outside for information. [`FnExecutor`] makes one from an async closure.
//! - A [`WorkflowBuilder`] connects executors with direct, conditional, switch, fan-out and
//!   fan-in edges, and checks the graph when it builds: message types along every edge, a start
//!   executor, no unreachable executor, no duplicate id ([`BuildError`]).
//! - Messages sent in superstep N are delivered in superstep N+1. Executors with messages in a
//!   superstep run concurrently (on the caller's task: dropping the run cancels everything);
//!   delivery order is deterministic (executors in the order they were added, messages in the
//!   order they were sent, edges in the order they were added).
//! - [`Workflow::run`] returns the outputs, events and final [`RunStatus`];
//!   [`Workflow::run_stream`] yields [`WorkflowEvent`]s as they happen.
//! - With a [`CheckpointStore`], a checkpoint is saved before the first superstep and after
//!   every superstep; [`Workflow::resume`] continues from any of them. Stores: in memory, JSON
//!   files, and SQLite (`SqliteCheckpointStore`, feature `sqlite`, on by default: WAL, one
//!   `BEGIN IMMEDIATE` transaction per save, safe against a killed process).
//! - Checkpoints name message types by stable names ([`WorkflowBuilder::message`]), so they load
//!   in another build or process; they carry Weft's format version and the workflow's own
//!   ([`WorkflowBuilder::checkpoint_version`]), upgraded on load by built-in and registered
//!   migrations ([`WorkflowBuilder::checkpoint_migration`]).
//!
//! ```
//! use weft_workflow::{FnExecutor, WorkflowBuilder, WorkflowContext};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let split = FnExecutor::new("split", |text: String, ctx: WorkflowContext<String>| async move {
//!     ctx.send_message(text);
//!     Ok(())
//! });
//! let upper = FnExecutor::new("upper", |text: String, ctx: WorkflowContext<String>| async move {
//!     ctx.send_message(text.to_uppercase());
//!     Ok(())
//! });
//! let count = FnExecutor::new("count", |text: String, ctx: WorkflowContext<String>| async move {
//!     ctx.send_message(text.len().to_string());
//!     Ok(())
//! });
//! let join = FnExecutor::new("join", |parts: Vec<String>, ctx: WorkflowContext<()>| async move {
//!     ctx.yield_output(parts.join(" "));
//!     Ok(())
//! });
//! let workflow = WorkflowBuilder::new()
//!     .start_with(split)
//!     .add_executor(upper)
//!     .add_executor(count)
//!     .add_executor(join)
//!     .add_fan_out("split", ["upper", "count"])
//!     .add_fan_in(["upper", "count"], "join")
//!     .build()?;
//! let result = workflow.run("weft".to_string()).await?;
//! assert_eq!(result.outputs_as::<String>(), vec!["WEFT 4".to_string()]);
//! # Ok(()) }
//! ```

mod agent;
mod builder;
pub mod checkpoint;
mod context;
mod edges;
mod error;
mod events;
mod executor;
pub mod journal;
mod journaled;
mod message;
pub mod orchestration;
mod request;
mod runner;
mod subworkflow;
pub mod telemetry;
mod viz;
mod workflow;
mod workflow_agent;

pub use agent::{AgentApprovalRequest, AgentExecutor};
pub use builder::{DEFAULT_MAX_SUPERSTEPS, WorkflowBuilder};
pub use checkpoint::{
    CHECKPOINT_FORMAT_VERSION, Checkpoint, CheckpointInfo, CheckpointListing, CheckpointStore,
    FileCheckpointStore, InMemoryCheckpointStore,
};
#[cfg(feature = "sqlite")]
pub use checkpoint::{SQLITE_SCHEMA_VERSION, SqliteCheckpointStore};
pub use context::WorkflowContext;
pub use edges::Case;
pub use error::{BoxError, BuildError, CheckpointError, WorkflowError};
pub use events::{RunStatus, WorkflowEvent, WorkflowOutput, WorkflowRunResult};
pub use executor::{Executor, FnExecutor};
pub use journal::{InvocationEffects, InvocationJournal, InvocationKey, InvocationWork};
pub use message::{AnyMessage, WorkflowMessage};
pub use orchestration::{
    ConcurrentBuilder, GroupChatBuilder, GroupChatState, HandoffBuilder, HandoffEvent, HandoffUserRequest,
    MagenticBuilder, MagenticEvent, MagenticFinish, MagenticPlan, ParticipantResult, PlanReview,
    PlanReviewRequest, ProgressLedger, SequentialBuilder, SpeakerSelector,
};
pub use request::{PendingRequest, RequestResponse};
pub use subworkflow::SubWorkflow;
pub use viz::{GraphEdge, GraphNode, WorkflowGraph};
pub use workflow::Workflow;
pub use workflow_agent::{REQUEST_INFO_FUNCTION, WORKFLOW_EVENT_KIND, WorkflowAgent};
