//! Checkpoints kept in memory, for tests and for pausing and answering within one process.

use std::sync::Mutex;

use async_trait::async_trait;

use super::{Checkpoint, CheckpointInfo, CheckpointStore, sort_infos};
use crate::context::lock;
use crate::error::CheckpointError;

/// Keeps checkpoints in memory (lost when dropped).
#[derive(Debug, Default)]
pub struct InMemoryCheckpointStore {
    checkpoints: Mutex<Vec<Checkpoint>>,
}

impl InMemoryCheckpointStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many checkpoints it holds.
    pub fn len(&self) -> usize {
        lock(&self.checkpoints).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl CheckpointStore for InMemoryCheckpointStore {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let mut checkpoints = lock(&self.checkpoints);
        checkpoints.retain(|c| c.checkpoint_id != checkpoint.checkpoint_id);
        checkpoints.push(checkpoint.clone());
        Ok(())
    }

    async fn load(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        lock(&self.checkpoints)
            .iter()
            .find(|c| c.checkpoint_id == checkpoint_id)
            .cloned()
            .ok_or_else(|| CheckpointError::NotFound(checkpoint_id.to_string()))
    }

    async fn list(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, CheckpointError> {
        let mut infos: Vec<CheckpointInfo> =
            lock(&self.checkpoints).iter().filter(|c| c.run_id == run_id).map(Checkpoint::info).collect();
        sort_infos(&mut infos);
        Ok(infos)
    }
}
