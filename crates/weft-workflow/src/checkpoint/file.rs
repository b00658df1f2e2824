//! Checkpoints as JSON files: `<dir>/<run_id>/<checkpoint_id>.json`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::{Checkpoint, CheckpointInfo, CheckpointStore, check_id, sort_infos};
use crate::error::CheckpointError;

/// Keeps checkpoints as JSON files in a directory, one subdirectory per run. Each file is
/// written to a temporary name, flushed to disk, then renamed, so a crash never leaves a torn
/// checkpoint behind.
#[derive(Debug, Clone)]
pub struct FileCheckpointStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io { path: path.display().to_string(), source }
}

impl FileCheckpointStore {
    /// A store in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the checkpoint file at `path`, which must hold the checkpoint `checkpoint_id`.
    async fn read(path: &Path, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        let located = |path: &Path| (checkpoint_id.to_string(), path.display().to_string());
        let json = match tokio::fs::read_to_string(path).await {
            Ok(json) => json,
            // Removed between finding and reading it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CheckpointError::NotFound(checkpoint_id.to_string()));
            }
            // Not UTF-8.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let (checkpoint_id, path) = located(path);
                return Err(CheckpointError::Corrupt { checkpoint_id, path, source: Box::new(e) });
            }
            Err(source) => {
                let (checkpoint_id, path) = located(path);
                return Err(CheckpointError::Unreadable { checkpoint_id, path, source });
            }
        };
        let checkpoint = match Checkpoint::from_json(&json) {
            Ok(checkpoint) => checkpoint,
            Err(CheckpointError::Json(e)) => {
                let (checkpoint_id, path) = located(path);
                return Err(CheckpointError::Corrupt { checkpoint_id, path, source: Box::new(e) });
            }
            Err(other) => return Err(other),
        };
        if checkpoint.checkpoint_id != checkpoint_id {
            return Err(CheckpointError::WrongId {
                expected: checkpoint_id.to_string(),
                found: checkpoint.checkpoint_id,
                path: path.display().to_string(),
            });
        }
        Ok(checkpoint)
    }

    /// A run's checkpoints, oldest first, and the files of the run that could not be used
    /// (unreadable, corrupt, holding another id or run), each as the error that loading it
    /// would give. [`CheckpointStore::list`] logs those at `warn` and returns the good ones.
    pub async fn scan(&self, run_id: &str) -> Result<CheckpointListing, CheckpointError> {
        check_id(run_id)?;
        let run_dir = self.dir.join(run_id);
        let mut entries = match tokio::fs::read_dir(&run_dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CheckpointListing::default()),
            Err(e) => return Err(io(&run_dir)(e)),
        };
        let mut listing = CheckpointListing::default();
        while let Some(entry) = entries.next_entry().await.map_err(io(&run_dir))? {
            let path = entry.path();
            let is_json = path.extension().is_some_and(|e| e == "json");
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
            if !is_json || hidden {
                continue;
            }
            match Self::read(&path, stem).await {
                Ok(checkpoint) if checkpoint.run_id != run_id => {
                    listing.problems.push(CheckpointError::WrongRun {
                        expected: run_id.to_string(),
                        found: checkpoint.run_id,
                        path: path.display().to_string(),
                    });
                }
                Ok(checkpoint) => listing.checkpoints.push(checkpoint.info()),
                // Removed while listing: not a problem.
                Err(CheckpointError::NotFound(_)) => {}
                Err(problem) => listing.problems.push(problem),
            }
        }
        sort_infos(&mut listing.checkpoints);
        Ok(listing)
    }
}

/// What [`FileCheckpointStore::scan`] found in a run's directory.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CheckpointListing {
    /// The good checkpoints, oldest first.
    pub checkpoints: Vec<CheckpointInfo>,
    /// The files that could not be used, with why.
    pub problems: Vec<CheckpointError>,
}

#[async_trait]
impl CheckpointStore for FileCheckpointStore {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        check_id(&checkpoint.run_id)?;
        check_id(&checkpoint.checkpoint_id)?;
        let run_dir = self.dir.join(&checkpoint.run_id);
        tokio::fs::create_dir_all(&run_dir).await.map_err(io(&run_dir))?;
        let path = run_dir.join(format!("{}.json", checkpoint.checkpoint_id));
        let temp = run_dir.join(format!(".{}.{}.tmp", checkpoint.checkpoint_id, uuid::Uuid::new_v4()));
        let json = checkpoint.to_json()?;
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            file.write_all(json.as_bytes()).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&temp, &path).await
        }
        .await;
        if let Err(source) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(CheckpointError::Io { path: path.display().to_string(), source });
        }
        Ok(())
    }

    async fn load(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        check_id(checkpoint_id)?;
        let mut runs = match tokio::fs::read_dir(&self.dir).await {
            Ok(runs) => runs,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CheckpointError::NotFound(checkpoint_id.to_string()));
            }
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let name = format!("{checkpoint_id}.json");
        while let Some(run) = runs.next_entry().await.map_err(io(&self.dir))? {
            let candidate = run.path().join(&name);
            if tokio::fs::try_exists(&candidate).await.unwrap_or(false) {
                return Self::read(&candidate, checkpoint_id).await;
            }
        }
        Err(CheckpointError::NotFound(checkpoint_id.to_string()))
    }

    async fn list(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, CheckpointError> {
        let listing = self.scan(run_id).await?;
        for problem in &listing.problems {
            tracing::warn!(run_id, error = %problem, "checkpoint file skipped in the listing");
        }
        Ok(listing.checkpoints)
    }
}
