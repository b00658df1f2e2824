//! What `weft serve` tells the host about a workflow file beyond the agent it serves: its kind
//! and graph (for DevUI to draw) and its checkpoints (listed and resumed through the host). The
//! host knows no workflow: this is where the two meet. A served workflow whose file names no
//! checkpoint store keeps its checkpoints in the server's `SessionStore`
//! ([`SessionCheckpoints`]), so a run paused for human input outlives a restart of a server
//! with `--store sqlite:PATH`.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde_json::{Value, json};
use weft::host::{
    CheckpointMeta, CheckpointSource, CheckpointSourceError, EntityInfo, SessionStore, StoredCheckpoint,
};
use weft::workflow::{Checkpoint, CheckpointError, CheckpointInfo, CheckpointStore, Workflow, WorkflowAgent};

/// A workflow's checkpoints in the server's [`SessionStore`], under the served workflow's name
/// (so one workflow never loads another's), bounded as the store bounds them.
pub(crate) struct SessionCheckpoints {
    store: Arc<dyn SessionStore>,
    /// The served name, known once the file is loaded (the store is given to the loader).
    scope: OnceLock<String>,
}

impl SessionCheckpoints {
    /// The checkpoints of a workflow to be named ([`SessionCheckpoints::name`]) before it runs.
    pub(crate) fn new(store: Arc<dyn SessionStore>) -> Self {
        Self { store, scope: OnceLock::new() }
    }

    /// Names the workflow whose checkpoints these are (the first name given stays).
    pub(crate) fn name(&self, name: &str) {
        let _ = self.scope.set(name.to_string());
    }

    fn scope(&self) -> Result<&str, CheckpointError> {
        self.scope.get().map(String::as_str).ok_or_else(|| {
            CheckpointError::Store("the workflow's checkpoints were used before it was named".into())
        })
    }
}

fn store_failed(error: weft::host::StoreError) -> CheckpointError {
    CheckpointError::Store(Box::new(error))
}

#[async_trait]
impl CheckpointStore for SessionCheckpoints {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let meta = CheckpointMeta {
            id: checkpoint.checkpoint_id.clone(),
            run_id: checkpoint.run_id.clone(),
            superstep: checkpoint.superstep,
            created_at_ms: checkpoint.created_at_ms,
            pending_requests: checkpoint.pending_requests.len(),
        };
        let body = serde_json::to_string(checkpoint)?;
        self.store.put_checkpoint(self.scope()?, StoredCheckpoint { meta, body }).await.map_err(store_failed)
    }

    async fn load(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        let stored = self.store.get_checkpoint(self.scope()?, checkpoint_id).await.map_err(store_failed)?;
        let stored = stored.ok_or_else(|| CheckpointError::NotFound(checkpoint_id.to_string()))?;
        Checkpoint::from_json(&stored.body)
    }

    async fn list(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, CheckpointError> {
        let metas = self.store.list_checkpoints(self.scope()?, run_id).await.map_err(store_failed)?;
        Ok(metas
            .into_iter()
            .map(|meta| CheckpointInfo {
                checkpoint_id: meta.id,
                run_id: meta.run_id,
                superstep: meta.superstep,
                created_at_ms: meta.created_at_ms,
                pending_requests: meta.pending_requests,
            })
            .collect())
    }
}

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
