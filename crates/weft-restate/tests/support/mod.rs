//! A real restate-server and real worker processes for the fault tests: each test starts its
//! own server ([`restate_server`]) and its own workers, and kills them on drop.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "restate_server.rs"]
mod restate_server;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Each test binary uses its own part of it.
#[allow(unused_imports)]
pub use restate_server::{RestateServer, START_TIMEOUT, free_port, log_of, wait_for_port};

/// How a demo worker is started.
#[derive(Clone)]
pub struct WorkerSettings {
    pub port: u16,
    pub counts: PathBuf,
    pub lookup_ms: u64,
    pub max_attempts: u32,
    pub log: PathBuf,
    /// Durable through the `DurableCalls` middleware instead of the decorators.
    pub as_middleware: bool,
}

impl WorkerSettings {
    /// A worker on a free port whose counts and log go under `dir`.
    pub fn in_dir(dir: &std::path::Path, lookup_ms: u64, max_attempts: u32) -> Self {
        let counts = dir.join("counts");
        std::fs::create_dir_all(&counts).unwrap();
        Self {
            port: free_port(),
            counts,
            lookup_ms,
            max_attempts,
            log: dir.join("worker.log"),
            as_middleware: false,
        }
    }
}

/// Sends `message` to the conversation `conversation` of the demo agent, through `ingress`.
pub async fn send(ingress: &str, conversation: &str, message: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{ingress}/WeftAgent/{conversation}/send"))
        .json(&serde_json::json!({ "message": message }))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .unwrap()
}

/// A `weft-restate-demo-worker` process, killed (`SIGKILL`) on drop.
pub struct Worker {
    child: Child,
    pub settings: WorkerSettings,
}

impl Worker {
    /// Starts the worker; with `admin`, it registers itself there (and this waits for it).
    pub fn start(settings: WorkerSettings, admin: Option<&str>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft-restate-demo-worker"));
        command
            .env("WEFT_RESTATE_ADDR", format!("127.0.0.1:{}", settings.port))
            .env("WEFT_RESTATE_COUNTS", &settings.counts)
            .env("WEFT_RESTATE_LOOKUP_MS", settings.lookup_ms.to_string())
            .env("WEFT_RESTATE_MAX_ATTEMPTS", settings.max_attempts.to_string())
            .env("WEFT_RESTATE_MIDDLEWARE", if settings.as_middleware { "1" } else { "0" })
            .env_remove("WEFT_RESTATE_ADMIN")
            .stdin(Stdio::null())
            .stdout(std::fs::File::options().create(true).append(true).open(&settings.log).unwrap())
            .stderr(std::fs::File::options().create(true).append(true).open(&settings.log).unwrap());
        if let Some(admin) = admin {
            command.env("WEFT_RESTATE_ADMIN", admin);
        }
        let child = command.spawn().unwrap();
        let worker = Self { child, settings };
        wait_for_port(worker.settings.port, "the worker", &worker.settings.log);
        if admin.is_some() {
            let deadline = Instant::now() + START_TIMEOUT;
            while !log_of(&worker.settings.log).contains("serving on") {
                if Instant::now() > deadline {
                    panic!("the worker did not register; its log:\n{}", log_of(&worker.settings.log));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        worker
    }

    /// `kill -9`.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
