//! Real Postgres 15 and Redis 7 servers for tests: each started per test in a temp dir on a
//! free port (loopback only), stopped on drop.
//!
//! `scripts/peers/postgres.sh` and `scripts/peers/redis.sh` export `WEFT_PG_BIN`,
//! `WEFT_PG_USER` and `WEFT_REDIS_SERVER`. Without them the tests panic saying so; they are
//! `#[ignore]`d unless run by `scripts/test`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn env_path(name: &str, test: &str, peer: &str, script: &str) -> PathBuf {
    match std::env::var_os(name).filter(|value| !value.is_empty()) {
        Some(value) => PathBuf::from(value),
        None => panic!(
            "{test}: needs {peer}, but {name} is not set; run scripts/test, or `source scripts/peers/{script}` first"
        ),
    }
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} did not listen on port {port} within {START_TIMEOUT:?}; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Postgres server of its own: `initdb` in a temp dir, started with `pg_ctl`, stopped
/// (immediately) on drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    user: Option<String>,
    port: u16,
}

impl PgServer {
    /// Starts a server; panics naming the cause.
    pub fn start(test: &str) -> Self {
        let bin = env_path("WEFT_PG_BIN", test, "PostgreSQL 15", "postgres.sh");
        let user = std::env::var("WEFT_PG_USER").ok().filter(|user| !user.is_empty());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("socket")).unwrap();
        if let Some(user) = &user {
            let status = Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:{user}"))
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the data directory failed");
        }
        let server = Self { bin, user, port: free_port(), dir };
        let data = server.dir.path().join("data");
        server.run("initdb", &["-D", data.to_str().unwrap(), "-U", "postgres", "-A", "trust", "--no-sync"]);
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            server.port,
            server.dir.path().join("socket").display()
        );
        let log = server.dir.path().join("pg.log");
        server.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options, "-w", "start"],
        );
        wait_for_port(server.port, "postgres", &log);
        server
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).stdin(Stdio::null()).output().unwrap();
        assert!(
            output.status.success(),
            "{program} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command("pg_ctl")
            .args(["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A Redis server of its own, without persistence; killed (and waited for) on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server; panics naming the cause.
    pub fn start(test: &str) -> Self {
        let bin = env_path("WEFT_REDIS_SERVER", test, "Redis 7", "redis.sh");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("redis.log");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, port, _dir: dir };
        wait_for_port(port, "redis-server", &log);
        server
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
