//! Checkpoints: the whole state of a run between supersteps, as portable, versioned JSON.
//!
//! A run with a store saves one checkpoint before its first superstep (superstep 0) and one
//! after every superstep. A checkpoint holds the messages in flight (with their stable type
//! names), the fan-in buffers, the shared state, each executor's [`crate::Executor::snapshot`]
//! and the pending requests. Loading one never runs code: messages are rebuilt through the
//! deserializers the builder recorded for the types on its edges. Resuming re-runs the
//! superstep after the checkpoint, so a superstep that failed runs again.
//!
//! Message types are named by the names registered with [`crate::WorkflowBuilder::message`]
//! (an unregistered type by its `std::any::type_name`, stable only within one build), so a
//! checkpoint loads in another build or process that registers the same names.
//!
//! Two versions describe a checkpoint. `format_version` is Weft's format
//! ([`CHECKPOINT_FORMAT_VERSION`]): older formats are upgraded when a workflow loads them (format
//! 1, and 0 when the field is missing, named types by their Rust type names; they are renamed
//! to the workflow's stable names). `workflow_version` is the user's
//! ([`crate::WorkflowBuilder::checkpoint_version`]): older ones are upgraded by the migrations
//! registered with [`crate::WorkflowBuilder::checkpoint_migration`].

mod file;
mod memory;
mod migrate;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use file::{CheckpointListing, FileCheckpointStore};
pub use memory::InMemoryCheckpointStore;
pub(crate) use migrate::migrate;
#[cfg(feature = "sqlite")]
pub use sqlite::{SQLITE_SCHEMA_VERSION, SqliteCheckpointStore};

use crate::error::CheckpointError;
use crate::request::PendingRequest;

/// The newest checkpoint format this build writes and reads. 2: message and request types by
/// stable name, and `workflow_version`. 3: Weft's own message types (`String`, `Message`,
/// `Vec<Message>`, `AgentResponse`) by stable name too (`weft.String`, …), where format 2
/// called them by their Rust names.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 3;

/// Upgrades a checkpoint's JSON by one workflow version.
pub(crate) type Migration =
    std::sync::Arc<dyn Fn(Value) -> Result<Value, crate::error::BoxError> + Send + Sync>;

/// A message in a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// For a message in flight: the executor it goes to. In a fan-in buffer: the source that
    /// sent it.
    pub executor_id: String,
    /// Its type's stable name (see [`crate::WorkflowBuilder::message`]; a Rust type name in
    /// format 1).
    pub type_name: String,
    /// Its JSON form.
    pub value: Value,
}

/// The messages waiting at one fan-in edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanInRecord {
    /// The edge, as `[a, b] -> c`.
    pub edge: String,
    /// The messages each source sent that were not delivered yet, oldest first.
    pub messages: Vec<MessageRecord>,
}

/// The state of a run after a superstep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The format version (see [`CHECKPOINT_FORMAT_VERSION`]; 0 when missing).
    #[serde(default)]
    pub format_version: u32,
    /// The workflow's own version (see [`crate::WorkflowBuilder::checkpoint_version`]; 0 when
    /// missing).
    #[serde(default)]
    pub workflow_version: u32,
    /// A unique id.
    pub checkpoint_id: String,
    /// The run it belongs to.
    pub run_id: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The last completed superstep (0: none yet).
    pub superstep: u64,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Messages to deliver in the next superstep, in delivery order.
    pub messages: Vec<MessageRecord>,
    /// Messages waiting at fan-in edges.
    #[serde(default)]
    pub fan_in: Vec<FanInRecord>,
    /// The shared state.
    #[serde(default)]
    pub shared_state: BTreeMap<String, Value>,
    /// Each stateful executor's snapshot, by executor id.
    #[serde(default)]
    pub executor_states: BTreeMap<String, Value>,
    /// Requests to the outside not answered yet.
    #[serde(default)]
    pub pending_requests: Vec<PendingRequest>,
}

impl Checkpoint {
    /// The checkpoint as pretty JSON.
    pub fn to_json(&self) -> Result<String, CheckpointError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// A checkpoint from JSON, refusing newer format versions.
    pub fn from_json(json: &str) -> Result<Self, CheckpointError> {
        let checkpoint: Checkpoint = serde_json::from_str(json)?;
        checkpoint.check_version()?;
        Ok(checkpoint)
    }

    fn check_version(&self) -> Result<(), CheckpointError> {
        if self.format_version > CHECKPOINT_FORMAT_VERSION {
            return Err(CheckpointError::Version {
                found: self.format_version,
                supported: CHECKPOINT_FORMAT_VERSION,
            });
        }
        Ok(())
    }

    /// A short description for listings.
    pub fn info(&self) -> CheckpointInfo {
        CheckpointInfo {
            checkpoint_id: self.checkpoint_id.clone(),
            run_id: self.run_id.clone(),
            superstep: self.superstep,
            created_at_ms: self.created_at_ms,
            pending_requests: self.pending_requests.len(),
        }
    }
}

/// A checkpoint as listed by a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Its id.
    pub checkpoint_id: String,
    /// Its run.
    pub run_id: String,
    /// The last completed superstep.
    pub superstep: u64,
    /// When it was made (ms since the Unix epoch).
    pub created_at_ms: u64,
    /// How many requests were waiting for an answer.
    pub pending_requests: usize,
}

/// Where checkpoints are kept.
#[async_trait]
pub trait CheckpointStore: Send + Sync + 'static {
    /// Saves a checkpoint (replacing one with the same id).
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError>;

    /// Loads a checkpoint by id ([`CheckpointError::NotFound`] when there is none).
    async fn load(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError>;

    /// A run's checkpoints, oldest (lowest superstep) first.
    async fn list(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, CheckpointError>;
}

/// Rejects ids a file system or query could misread.
pub(crate) fn check_id(id: &str) -> Result<(), CheckpointError> {
    let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid { Ok(()) } else { Err(CheckpointError::InvalidId(id.to_string())) }
}

/// Sorts listings by superstep, then time.
pub(crate) fn sort_infos(infos: &mut [CheckpointInfo]) {
    infos.sort_by_key(|info| (info.superstep, info.created_at_ms));
}
