//! Running a skill's scripts: [`ScriptRunner`] starts each as a child process in the skill's
//! folder, with a time limit, bounded output, a clean environment, and its whole process group
//! killed when the call ends early (the run is cancelled or dropped) or runs over time.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::discover::{check_inside, confined, list, listed};
use crate::error::SkillError;
use crate::skill::Skill;

/// The interpreters known by default, by file extension.
pub const DEFAULT_INTERPRETERS: &[(&str, &str)] = &[("py", "python3"), ("sh", "sh")];
/// The default time limit of one script run.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default limit of each of a script's stdout and stderr kept (bytes; the rest is read and
/// dropped).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 * 1024;
/// The environment variables a script is given by default (the rest is cleared, so that API
/// keys in the agent's environment do not reach skill scripts).
pub const DEFAULT_ENV_PASSED: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"];

/// How skill scripts are run. Giving one to [`crate::SkillsProvider::scripts`] offers the
/// model the `run_skill_script` tool, whose every call needs the caller's approval.
#[derive(Debug, Clone)]
pub struct ScriptRunner {
    interpreters: BTreeMap<String, OsString>,
    timeout: Duration,
    max_output_bytes: usize,
    env_passed: Vec<String>,
    env: BTreeMap<String, String>,
}

impl Default for ScriptRunner {
    fn default() -> Self {
        Self {
            interpreters: DEFAULT_INTERPRETERS
                .iter()
                .map(|(e, p)| (e.to_string(), OsString::from(p)))
                .collect(),
            timeout: DEFAULT_SCRIPT_TIMEOUT,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            env_passed: DEFAULT_ENV_PASSED.iter().map(|v| v.to_string()).collect(),
            env: BTreeMap::new(),
        }
    }
}

/// What a script printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOutput {
    /// Its stdout (at most the runner's limit; lossy UTF-8).
    pub stdout: String,
    /// Its stderr (likewise).
    pub stderr: String,
    /// Whether output beyond the limit was dropped.
    pub truncated: bool,
}

impl ScriptOutput {
    /// The text the model is shown: stdout, then stderr under a heading.
    pub fn to_model_text(&self) -> String {
        let mut text = self.stdout.trim_end().to_string();
        if !self.stderr.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("stderr:\n");
            text.push_str(self.stderr.trim_end());
        }
        if self.truncated {
            text.push_str("\n[output truncated]");
        }
        if text.is_empty() { "(no output)".into() } else { text }
    }
}

impl ScriptRunner {
    /// The default runner: `python3` for `.py`, `sh` for `.sh`, 30 s, 64 KiB of each output.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs scripts ending in `.extension` with `program` (`node` for `js`, …). The loader must
    /// list them too ([`crate::SkillLoader::script_extensions`]).
    pub fn interpreter(mut self, extension: impl Into<String>, program: impl Into<OsString>) -> Self {
        self.interpreters.insert(extension.into(), program.into());
        self
    }

    /// The time limit of one run (default [`DEFAULT_SCRIPT_TIMEOUT`]): past it the script's
    /// process group is killed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most bytes kept of each of stdout and stderr (default [`DEFAULT_MAX_OUTPUT_BYTES`]).
    pub fn max_output_bytes(mut self, bytes: usize) -> Self {
        self.max_output_bytes = bytes;
        self
    }

    /// Passes this variable of the agent's environment to scripts (besides
    /// [`DEFAULT_ENV_PASSED`]).
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        self.env_passed.push(name.into());
        self
    }

    /// Sets a variable for scripts.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// The time limit.
    pub fn script_timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `script` (one of [`Skill::scripts`]) of `skill` with `args`, in the skill's
    /// folder. A failure status is [`SkillError::ScriptFailed`] with the output. Dropping the
    /// returned future kills the script's process group.
    pub async fn run(
        &self,
        skill: &Skill,
        script: &str,
        args: &[String],
    ) -> Result<ScriptOutput, SkillError> {
        check_inside(skill, script)?;
        let name = listed(&skill.scripts, script).ok_or_else(|| SkillError::UnknownScript {
            skill: skill.name.clone(),
            script: script.to_string(),
            available: list(skill.scripts.iter().map(String::as_str)),
        })?;
        let path = confined(skill, name)?;
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        let program = self
            .interpreters
            .get(&extension)
            .ok_or_else(|| SkillError::NoInterpreter { skill: skill.name.clone(), script: name.clone() })?;
        let mut command = tokio::process::Command::new(program);
        command.arg(&path).args(args).current_dir(&skill.folder).env_clear();
        for variable in &self.env_passed {
            if let Some(value) = std::env::var_os(variable) {
                command.env(variable, value);
            }
        }
        command.envs(&self.env);
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn().map_err(|source| SkillError::ScriptSpawn {
            skill: skill.name.clone(),
            script: name.clone(),
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
        // Owns the process group from here: dropped on every way out (done, timeout, error, or
        // this future dropped), it kills what is left, grandchildren included.
        let group = GroupGuard(child.id());
        let limit = self.max_output_bytes;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let work = async {
            let waiting = async {
                let status = child.wait().await;
                // What the script left running (holding its pipes open) ends with it.
                group.kill();
                status
            };
            tokio::join!(bounded(stdout, limit), bounded(stderr, limit), waiting)
        };
        let ((stdout, out_cut), (stderr, err_cut), status) =
            tokio::time::timeout(self.timeout, work).await.map_err(|_| SkillError::ScriptTimeout {
                skill: skill.name.clone(),
                script: name.clone(),
                timeout: self.timeout,
            })?;
        let status = status.map_err(|source| SkillError::Read { path: path.clone(), source })?;
        let output = ScriptOutput { stdout, stderr, truncated: out_cut || err_cut };
        if status.success() {
            return Ok(output);
        }
        Err(SkillError::ScriptFailed {
            skill: skill.name.clone(),
            script: name.clone(),
            status: describe(status),
            output: output.to_model_text(),
        })
    }
}

/// Reads a pipe to its end, keeping the first `limit` bytes.
async fn bounded(pipe: Option<impl AsyncRead + Unpin>, limit: usize) -> (String, bool) {
    let Some(mut pipe) = pipe else { return (String::new(), false) };
    let mut kept = Vec::new();
    let mut buffer = [0u8; 8192];
    let mut cut = false;
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
    (String::from_utf8_lossy(&kept).into_owned(), cut)
}

fn describe(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    "an unknown status".into()
}

/// Kills a script's process group when dropped (the child itself is killed by `kill_on_drop`).
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn kill(&self) {
        #[cfg(unix)]
        if let Some(raw) = self.0.and_then(|pid| i32::try_from(pid).ok()) {
            use nix::sys::signal::{Signal, killpg};
            use nix::unistd::Pid;
            match killpg(Pid::from_raw(raw), Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(error) => {
                    tracing::debug!(group = raw, %error, "could not kill a skill script's process group")
                }
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
