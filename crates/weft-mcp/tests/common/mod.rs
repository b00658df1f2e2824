//! Shared test support: finding the real peers (installed by `scripts/peers/mcp.sh`), starting the
//! Python test server over HTTP on a free 127.0.0.1 port, and bounded waits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

/// The value of a peer variable (a path that exists). Tests that call this are `#[ignore]`d in
/// plain `cargo nextest run`; `scripts/test` installs the peers and runs them, and a missing peer
/// fails the test: it never passes without running.
pub fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs the MCP peers; run scripts/test, \
             or `source scripts/peers/mcp.sh` first"
        ),
    }
}

pub fn servers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers")
}

pub fn py_server() -> String {
    servers_dir().join("py_server.py").display().to_string()
}

pub fn raw_server() -> String {
    servers_dir().join("raw_stdio.py").display().to_string()
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A child process killed (with its group) when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub url: String,
    pub port: u16,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something listens on the port.
pub async fn wait_listening(port: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "server on port {port} did not start within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts the Python test server on streamable HTTP on `port`.
pub fn spawn_py_http(python: &str, port: u16) -> std::process::Child {
    spawn_py_http_mode(python, port, "http")
}

/// Starts the Python test server on streamable HTTP on `port`; `mode` is `http` (answers as SSE
/// streams) or `http-json` (answers as JSON bodies).
pub fn spawn_py_http_mode(python: &str, port: u16, mode: &str) -> std::process::Child {
    std::process::Command::new(python)
        .arg(py_server())
        .arg(mode)
        .arg(port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts server-everything on streamable HTTP on `port`.
pub fn spawn_everything_http(node: &str, everything: &str, port: u16) -> std::process::Child {
    std::process::Command::new(node)
        .arg(everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The Python test server on streamable HTTP.
pub async fn start_py_http(python: &str) -> ServerProcess {
    start_py_http_mode(python, "http").await
}

/// The Python test server on streamable HTTP, in `mode` (see [`spawn_py_http_mode`]).
pub async fn start_py_http_mode(python: &str, mode: &str) -> ServerProcess {
    let port = free_port();
    let child = spawn_py_http_mode(python, port, mode);
    let server = ServerProcess { child, url: format!("http://127.0.0.1:{port}/mcp"), port };
    wait_listening(port).await;
    server
}

/// server-everything on streamable HTTP (it binds all interfaces; we only talk to 127.0.0.1).
pub async fn start_everything_http(node: &str, everything: &str) -> ServerProcess {
    let port = free_port();
    let child = spawn_everything_http(node, everything, port);
    let server = ServerProcess { child, url: format!("http://127.0.0.1:{port}/mcp"), port };
    wait_listening(port).await;
    server
}

impl ServerProcess {
    /// Kills the server and starts `child` (a new one on the same port) in its place.
    pub async fn replace(&mut self, start: impl FnOnce(u16) -> std::process::Child) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = start(self.port);
        wait_listening(self.port).await;
    }
}

/// A `tracing` subscriber for this thread that keeps what it logs (current-thread runtime:
/// rmcp's and the source's tasks are polled on this thread too).
pub fn capture_tracing() -> (tracing::subscriber::DefaultGuard, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    capture_tracing_with("weft_mcp=debug")
}

/// [`capture_tracing`] with another filter (e.g. `trace`: every crate, every level).
pub fn capture_tracing_with(
    filter: &str,
) -> (tracing::subscriber::DefaultGuard, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = {
        let buffer = buffer.clone();
        move || CaptureWriter(buffer.clone())
    };
    let subscriber =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).finish();
    (tracing::subscriber::set_default(subscriber), buffer)
}

/// The text captured by [`capture_tracing`].
pub fn captured(buffer: &std::sync::Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

struct CaptureWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a process (by pid) is still alive (not counting zombies).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits (bounded) until the process is gone.
pub async fn wait_gone(pid: u32) -> bool {
    for _ in 0..100 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Runs a future with a hard limit so that nothing can hang CI.
pub async fn bounded<F: std::future::Future>(secs: u64, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), future).await.expect("test step took too long")
}

/// How many tasks of the current runtime are alive.
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Waits (bounded, 2 s) until no more tasks are alive than `baseline`.
pub async fn tasks_settle(baseline: usize) -> bool {
    for _ in 0..100 {
        if alive_tasks() <= baseline {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
