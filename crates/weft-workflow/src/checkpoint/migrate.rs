//! Upgrading older checkpoints: Weft's format first, then the workflow's own versions.

use std::collections::HashMap;

use super::{CHECKPOINT_FORMAT_VERSION, Checkpoint};
use crate::error::CheckpointError;
use crate::workflow::WorkflowInner;

/// Brings a loaded checkpoint up to the current format and the workflow's version.
///
/// Formats 0 and 1 named message and request types by their Rust type names, and format 2 the
/// types it had no stable name for (Weft's own `String`, `Message`, `AgentResponse` among
/// them): each name that is the Rust name of a type this workflow knows becomes that type's
/// stable name (other names stay, and fail as unknown when a message needs them). Then the user's migrations run, one
/// workflow version at a time, on the checkpoint's JSON.
pub(crate) fn migrate(
    workflow: &WorkflowInner,
    mut checkpoint: Checkpoint,
) -> Result<Checkpoint, CheckpointError> {
    if checkpoint.format_version > CHECKPOINT_FORMAT_VERSION {
        return Err(CheckpointError::Version {
            found: checkpoint.format_version,
            supported: CHECKPOINT_FORMAT_VERSION,
        });
    }
    if checkpoint.format_version < 3 {
        rename_rust_types(workflow, &mut checkpoint);
        checkpoint.format_version = CHECKPOINT_FORMAT_VERSION;
    }
    if checkpoint.workflow_version > workflow.version {
        return Err(CheckpointError::WorkflowVersion {
            found: checkpoint.workflow_version,
            supported: workflow.version,
        });
    }
    while checkpoint.workflow_version < workflow.version {
        let from = checkpoint.workflow_version;
        let step = workflow
            .migrations
            .get(&from)
            .ok_or(CheckpointError::NoMigration { from, to: workflow.version })?;
        let upgraded = step(serde_json::to_value(&checkpoint)?)
            .map_err(|source| CheckpointError::Migration { from, source })?;
        checkpoint = serde_json::from_value(upgraded)
            .map_err(|e| CheckpointError::Migration { from, source: Box::new(e) })?;
        checkpoint.workflow_version = from + 1;
    }
    Ok(checkpoint)
}

/// Format 1 to 2: Rust type names to stable names.
fn rename_rust_types(workflow: &WorkflowInner, checkpoint: &mut Checkpoint) {
    let stable: HashMap<&str, &str> =
        workflow.types.iter().map(|(name, message_type)| (message_type.name, name.as_str())).collect();
    let rename = |name: &mut String| {
        if let Some(stable) = stable.get(name.as_str()) {
            *name = (*stable).to_string();
        }
    };
    let records = checkpoint
        .messages
        .iter_mut()
        .chain(checkpoint.fan_in.iter_mut().flat_map(|f| f.messages.iter_mut()));
    for record in records {
        rename(&mut record.type_name);
    }
    for request in &mut checkpoint.pending_requests {
        rename(&mut request.request_type);
        rename(&mut request.response_type);
    }
}
