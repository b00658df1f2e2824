//! Typed errors: building a workflow, running it, and storing its checkpoints.

pub use weft_core::BoxError;

/// A workflow that cannot be built. Each variant names the executor and, where there is one, the
/// edge at fault (edges are written `a -> b`, `a -> [b, c]` or `[a, b] -> c`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two executors share an id.
    #[error("duplicate executor id '{id}': every executor needs its own id")]
    DuplicateExecutor {
        /// The id used twice.
        id: String,
    },
    /// No start executor was set.
    #[error("no start executor: call set_start(id) on the builder")]
    MissingStart,
    /// An edge, or the start, names an executor that was never added.
    #[error("{context} names executor '{id}', which was not added to the builder")]
    UnknownExecutor {
        /// The missing id.
        id: String,
        /// Where it was named: `edge a -> b` or `the start`.
        context: String,
    },
    /// The message type a source sends is not the type a target accepts.
    #[error(
        "edge {edge}: executor '{source_id}' sends {source_type}, but executor '{target_id}' accepts {target_type}"
    )]
    TypeMismatch {
        /// The edge.
        edge: String,
        /// The sending executor.
        source_id: String,
        /// What it sends.
        source_type: String,
        /// The receiving executor.
        target_id: String,
        /// What it accepts (a fan-in target must accept a `Vec` of what its sources send).
        target_type: String,
    },
    /// No path of edges leads from the start executor to this executor.
    #[error("executor '{id}' is unreachable: no edge path leads to it from the start executor '{start}'")]
    Unreachable {
        /// The unreachable executor.
        id: String,
        /// The start executor.
        start: String,
    },
    /// An orchestration is misconfigured (no participants, an unknown agent name, …).
    #[error("orchestration: {reason}")]
    Orchestration {
        /// What is wrong.
        reason: String,
    },
    /// An edge is malformed (e.g. a fan-out without targets).
    #[error("edge {edge}: {reason}")]
    InvalidEdge {
        /// The edge.
        edge: String,
        /// What is wrong.
        reason: String,
    },
    /// A stable message name was registered twice, or a type under two names.
    #[error("message name '{name}': {reason}")]
    MessageName {
        /// The name.
        name: String,
        /// What clashes.
        reason: String,
    },
}

/// An error ending or preventing a workflow run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// An executor's handler failed.
    #[error("executor '{executor_id}' failed in superstep {superstep}: {source}")]
    Executor {
        /// The executor.
        executor_id: String,
        /// The superstep it ran in.
        superstep: u64,
        /// Its error.
        #[source]
        source: BoxError,
    },
    /// The input given to `run` is not the start executor's input type.
    #[error("the start executor '{executor_id}' accepts {expected}, but the input is {found}")]
    InputType {
        /// The start executor.
        executor_id: String,
        /// Its input type.
        expected: String,
        /// The input's type.
        found: String,
    },
    /// An executor sent a message to a target no edge from it leads to.
    #[error("executor '{executor_id}' sent a message to '{target}', but no edge leads there from it")]
    NoEdge {
        /// The sender.
        executor_id: String,
        /// The target it named.
        target: String,
    },
    /// The run did not become idle within the superstep limit.
    #[error("the run did not finish within {limit} supersteps (raise max_supersteps on the builder)")]
    MaxSupersteps {
        /// The limit.
        limit: u64,
    },
    /// A checkpoint could not be saved, loaded or applied.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Resuming was asked for, but the workflow has no checkpoint store.
    #[error("this workflow has no checkpoint store (use WorkflowBuilder::with_checkpoint_store)")]
    NoCheckpointStore,
    /// The journal of a journaled run (see [`crate::journal`]) failed outside an executor
    /// invocation: keeping the run's state or waiting for answers.
    #[error("the run's journal failed: {source}")]
    Journal {
        /// Its error.
        #[source]
        source: BoxError,
    },
}

/// An error from a checkpoint store, or applying a checkpoint to a workflow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// No checkpoint has this id.
    #[error("checkpoint '{0}' not found")]
    NotFound(String),
    /// The checkpoint was written by a newer format.
    #[error("checkpoint format version {found} is not supported (this build reads up to {supported})")]
    Version {
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The checkpoint names a message type this workflow does not know (no edge carries it and
    /// no [`crate::WorkflowBuilder::message`] registered it).
    #[error(
        "checkpoint names message type '{name}', which this workflow does not know: register the type under that name with WorkflowBuilder::message"
    )]
    UnknownMessageType {
        /// The name in the checkpoint.
        name: String,
    },
    /// The checkpoint was written by a newer version of the workflow
    /// ([`crate::WorkflowBuilder::checkpoint_version`]) than this one.
    #[error("checkpoint is of workflow version {found}, newer than this workflow's {supported}")]
    WorkflowVersion {
        /// The checkpoint's `workflow_version`.
        found: u32,
        /// This workflow's version.
        supported: u32,
    },
    /// No migration upgrades a checkpoint from this workflow version.
    #[error(
        "checkpoint is of workflow version {from}; register WorkflowBuilder::checkpoint_migration({from}, ..) to upgrade it to {to}"
    )]
    NoMigration {
        /// The version to upgrade from.
        from: u32,
        /// This workflow's version.
        to: u32,
    },
    /// A migration failed.
    #[error("checkpoint migration from workflow version {from}: {source}")]
    Migration {
        /// The version it upgrades from.
        from: u32,
        /// Its error.
        #[source]
        source: BoxError,
    },
    /// The checkpoint does not fit this workflow (unknown executor or message type).
    #[error("checkpoint does not fit this workflow: {0}")]
    Incompatible(String),
    /// An id contains characters a store cannot use.
    #[error("invalid checkpoint or run id '{0}': use letters, digits, '-' and '_'")]
    InvalidId(String),
    /// A value could not be converted to or from JSON.
    #[error("checkpoint JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// An executor could not snapshot or restore its state.
    #[error("executor '{executor_id}' state: {source}")]
    ExecutorState {
        /// The executor.
        executor_id: String,
        /// Its error.
        #[source]
        source: BoxError,
    },
    /// Reading or writing the store failed.
    #[error("checkpoint store I/O at {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A store-specific failure.
    #[error("checkpoint store: {0}")]
    Store(#[source] BoxError),
    /// A stored checkpoint could not be read (permissions, a directory in its place, a disk
    /// error).
    #[error("checkpoint '{checkpoint_id}' at {path} could not be read: {source}")]
    Unreadable {
        /// The id asked for (or, when listing, the file's name without `.json`).
        checkpoint_id: String,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A stored checkpoint is not a valid checkpoint (torn, edited, not UTF-8, not JSON of the
    /// checkpoint's shape).
    #[error("checkpoint '{checkpoint_id}' at {path} is corrupt: {source}")]
    Corrupt {
        /// The id asked for (or, when listing, the file's name without `.json`).
        checkpoint_id: String,
        /// The file.
        path: String,
        /// What is wrong with it.
        #[source]
        source: BoxError,
    },
    /// A stored checkpoint holds another id than the one asked for (its file name): it was
    /// copied or renamed by hand.
    #[error("the file {path} holds checkpoint '{found}', not '{expected}'")]
    WrongId {
        /// The id asked for (the file's name without `.json`).
        expected: String,
        /// The id inside the file.
        found: String,
        /// The file.
        path: String,
    },
    /// A stored checkpoint belongs to another run than the directory it is in.
    #[error("the file {path} holds a checkpoint of run '{found}', not of run '{expected}'")]
    WrongRun {
        /// The run of the directory.
        expected: String,
        /// The run inside the file.
        found: String,
        /// The file.
        path: String,
    },
}
