//! What `weft serve` tells the host about a workflow file beyond the agent it serves: its kind
//! and graph (for DevUI to draw) and its checkpoints (listed and resumed through the host). The
//! host knows no workflow: this is where the two meet.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use weft::host::{CheckpointSource, CheckpointSourceError, EntityInfo};
use weft::workflow::{CheckpointError, CheckpointStore, Workflow, WorkflowAgent};

/// A served workflow's extras for the host.
pub(crate) struct WorkflowEntity {
    /// What `GET /v1/entities` says of it: kind `workflow`, its graph as `info`.
    pub(crate) info: EntityInfo,
    /// Its checkpoints, when it keeps them.
    pub(crate) checkpoints: Option<Arc<dyn CheckpointSource>>,
}

/// The extras of `workflow`.
pub(crate) fn entity(workflow: &Workflow) -> WorkflowEntity {
    let graph = serde_json::to_value(workflow.graph()).unwrap_or(Value::Null);
    let checkpoints = workflow
        .checkpoint_store()
        .map(|store| Arc::new(Checkpoints { store: store.clone() }) as Arc<dyn CheckpointSource>);
    WorkflowEntity { info: EntityInfo::new("workflow", graph), checkpoints }
}

/// A workflow's checkpoint store, as the host lists and resumes it.
struct Checkpoints {
    store: Arc<dyn CheckpointStore>,
}

fn source_error(error: CheckpointError) -> CheckpointSourceError {
    match error {
        CheckpointError::NotFound(id) | CheckpointError::InvalidId(id) => {
            CheckpointSourceError::NotFound(format!("No checkpoint '{id}'"))
        }
        other => CheckpointSourceError::Store(other.to_string()),
    }
}

#[async_trait]
impl CheckpointSource for Checkpoints {
    async fn list(&self, run_id: &str) -> Result<Vec<Value>, CheckpointSourceError> {
        let infos = self.store.list(run_id).await.map_err(source_error)?;
        Ok(infos
            .into_iter()
            .map(|info| {
                json!({
                    "checkpointId": info.checkpoint_id,
                    "runId": info.run_id,
                    "superstep": info.superstep,
                    "createdAtMs": info.created_at_ms,
                    "pendingRequests": info.pending_requests,
                })
            })
            .collect())
    }

    async fn resume(&self, checkpoint_id: &str) -> Result<weft::AgentSession, CheckpointSourceError> {
        // Loaded first so that an unknown id is a 404 before the run starts.
        self.store.load(checkpoint_id).await.map_err(source_error)?;
        Ok(WorkflowAgent::resume_session(checkpoint_id))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_and_the_workflow_agent_agree_on_the_request_function() {
        assert_eq!(weft::host::agui::REQUEST_INFO_FUNCTION, weft::workflow::REQUEST_INFO_FUNCTION);
    }
}
