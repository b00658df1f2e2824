//! The advisory lock that makes `weft run --session F` runs on one file take turns: each holds it
//! from loading F to saving it, so no run overwrites the turns another one added meanwhile.
//!
//! The lock is on a sidecar file, `F.lock`, not on F itself. A save replaces F by renaming a new
//! file over it ([`weft::AgentSession::save`]), and a lock belongs to a file (an inode), not to
//! a name: a run waiting for a lock on F would get it on the old, replaced file once the holder
//! saved, while the next run opened and locked the new one, and both would then load, run and
//! save at the same time. `F.lock` is never replaced nor removed (removing it would bring the same
//! race back), so every run locks the same file. It is empty and stays beside the session. It is
//! put beside the file a symlink points to, so that two links to one session share it.
//!
//! The lock is advisory: programs that do not lock `F.lock` are not held back.

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::CliError;

/// The first pause between two attempts to take the lock.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
/// The longest pause between two attempts.
const LONGEST_PAUSE: Duration = Duration::from_millis(50);
/// How long a run waits before it says what it is waiting for.
const SAY_WAITING_AFTER: Duration = Duration::from_secs(2);

/// The lock file of one session file, opened (not yet locked).
pub(crate) struct SessionLock {
    lock: fd_lock::RwLock<File>,
    path: PathBuf,
}

impl SessionLock {
    /// Opens (creating it if needed) the lock file of `session_file`, which must be the resolved
    /// session file ([`weft::AgentSession::check_path`]).
    pub(crate) fn open(session_file: &Path) -> Result<Self, CliError> {
        let mut path = session_file.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        let file =
            OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|source| {
                CliError::Io {
                    context: format!("could not open the session's lock file {}", path.display()),
                    source,
                }
            })?;
        Ok(Self { lock: fd_lock::RwLock::new(file), path })
    }

    /// Runs `work` holding the lock, taken first. The wait polls (with growing pauses) rather
    /// than blocking a thread in `flock`, so that dropping the returned future (Ctrl-C, an
    /// error elsewhere) stops it at once; the lock is released when `work` ends, and by the
    /// system if the process dies.
    pub(crate) async fn hold_while<T>(
        &mut self,
        work: impl Future<Output = Result<T, CliError>>,
    ) -> Result<T, CliError> {
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut said = false;
        // The guard borrows the lock, so the wait loop lives here rather than in a function
        // returning the guard (which the borrow checker refuses in a loop).
        let _guard = loop {
            match self.lock.try_write() {
                Ok(guard) => break guard,
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(source) => {
                    return Err(CliError::Io {
                        context: format!("could not lock {}", self.path.display()),
                        source,
                    });
                }
            }
            if !said && started.elapsed() >= SAY_WAITING_AFTER {
                eprintln!("weft: waiting for another run to release {}", self.path.display());
                said = true;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        };
        tracing::debug!(lock = %self.path.display(), waited_ms = started.elapsed().as_millis() as u64, "session locked");
        work.await
    }
}
