//! A real restate-server for tests: each test starts its own (a temp base dir, free loopback
//! ports) and it is killed on drop. Shared by the weft-restate tests and the CLI's `weft worker`
//! tests (included by path).
//!
//! `scripts/peers/restate.sh` exports `WEFT_RESTATE_SERVER`. Without it the tests panic saying
//! so; they are `#[ignore]`d unless run by `scripts/test` (`--run-ignored all`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const START_TIMEOUT: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn log_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(8000);
    text.get(start..).unwrap_or_default().to_owned()
}

pub fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            panic!(
                "{what} did not listen on port {port} within {START_TIMEOUT:?}; its log:\n{}",
                log_of(log)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A restate-server of its own, killed on drop.
pub struct RestateServer {
    dir: tempfile::TempDir,
    child: Child,
    bin: PathBuf,
    ports: [u16; 3],
    pub ingress: String,
    pub admin: String,
}

impl RestateServer {
    /// Starts a server and waits until its admin API is healthy; panics naming the cause.
    pub async fn start(test: &str) -> Self {
        let bin = match std::env::var_os("WEFT_RESTATE_SERVER").filter(|value| !value.is_empty()) {
            Some(value) => PathBuf::from(value),
            None => panic!(
                "{test}: needs restate-server, but WEFT_RESTATE_SERVER is not set; run scripts/test, or `source scripts/peers/restate.sh` first"
            ),
        };
        let dir = tempfile::tempdir().unwrap();
        let ports = [free_port(), free_port(), free_port()];
        let child = Self::spawn(&bin, dir.path(), ports, test);
        let server = Self {
            dir,
            child,
            bin,
            ports,
            ingress: format!("http://127.0.0.1:{}", ports[0]),
            admin: format!("http://127.0.0.1:{}", ports[1]),
        };
        server.wait_ready(test).await;
        server
    }

    fn spawn(bin: &Path, dir: &Path, [ingress_port, admin_port, node_port]: [u16; 3], test: &str) -> Child {
        let log = dir.join("restate.log");
        let output = std::fs::File::options().create(true).append(true).open(&log).unwrap();
        Command::new(bin)
            .env("RESTATE_INGRESS__BIND_ADDRESS", format!("127.0.0.1:{ingress_port}"))
            .env("RESTATE_ADMIN__BIND_ADDRESS", format!("127.0.0.1:{admin_port}"))
            .arg("--base-dir")
            .arg(dir.join("base"))
            .args(["--node-name", "n1", "--bind-ip", "127.0.0.1", "--no-logo"])
            .args(["--bind-port", &node_port.to_string()])
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", bin.display()))
    }

    /// Stops the server (`SIGTERM`, as an operator restarting it would) and starts it again on
    /// the same ports and base dir.
    pub async fn restart(&mut self, test: &str) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + START_TIMEOUT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "restate-server did not stop; its log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Self::spawn(&self.bin, self.dir.path(), self.ports, test);
        self.wait_ready(test).await;
    }

    async fn wait_ready(&self, test: &str) {
        let log = self.dir.path().join("restate.log");
        let server = self;
        let deadline = Instant::now() + START_TIMEOUT;
        let client = reqwest::Client::new();
        loop {
            let healthy = client.get(format!("{}/health", server.admin)).send().await;
            if healthy.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if Instant::now() > deadline {
                panic!(
                    "{test}: restate-server was not healthy within {START_TIMEOUT:?}; its log:\n{}",
                    server.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_for_port(server.ports[0], "restate-server's ingress", &log);
    }

    /// The end of the server's log.
    pub fn log(&self) -> String {
        log_of(&self.dir.path().join("restate.log"))
    }
}

impl Drop for RestateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
