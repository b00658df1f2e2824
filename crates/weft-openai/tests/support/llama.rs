//! A real llama.cpp `llama-server` for tests: started per test on a free port, stopped on drop.
//!
//! `scripts/peers/llama.sh` builds the server and its tiny deterministic model and exports
//! `LLAMA_SERVER_BIN` and `LLAMA_MODEL`. Without them [`peer`] panics saying so; the tests that
//! need it are `#[ignore]`d unless run by `scripts/test`.
//!
//! Only the standard library is used, so that other crates' tests can include this file with
//! `#[path = …]`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest wait for the server to print its port and answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the server binary and the model are.
#[derive(Debug, Clone)]
pub struct Peer {
    /// `LLAMA_SERVER_BIN`.
    pub bin: PathBuf,
    /// `LLAMA_MODEL`.
    pub model: PathBuf,
}

/// The built server and model. The tests that call this are `#[ignore]`d in plain
/// `cargo nextest run`; `scripts/test` builds the peer and runs them. A missing peer panics with
/// what to do: such a test never passes without running.
pub fn peer(test: &str) -> Peer {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    let missing = match (var("LLAMA_SERVER_BIN"), var("LLAMA_MODEL")) {
        (Some(bin), Some(model)) if bin.is_file() && model.is_file() => return Peer { bin, model },
        (Some(bin), Some(model)) => {
            format!("LLAMA_SERVER_BIN={} or LLAMA_MODEL={} is not a file", bin.display(), model.display())
        }
        _ => "LLAMA_SERVER_BIN and LLAMA_MODEL are not set".to_string(),
    };
    panic!(
        "{test}: needs llama-server, but {missing}; run scripts/test, or `source scripts/peers/llama.sh` first"
    )
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--api-key`: requests without this key get 401.
    pub api_key: Option<String>,
    /// `-np`: parallel slots.
    pub slots: u32,
    /// `-c`: the context size, shared by the slots.
    pub context: u32,
    /// `--embeddings --pooling mean`: serve `POST /v1/embeddings` (without mean pooling it
    /// refuses OpenAI's shape).
    pub embeddings: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { api_key: None, slots: 1, context: 4096, embeddings: false }
    }
}

/// A running `llama-server`; killed (and waited for) on drop, so that nothing outlives a
/// failing test.
pub struct LlamaServer {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl LlamaServer {
    /// Starts a server with the model served as `tiny` and waits until `/health` says it is
    /// ready.
    pub fn start(peer: &Peer, options: &Options) -> Self {
        let mut command = Command::new(&peer.bin);
        command
            .arg("-m")
            .arg(&peer.model)
            .args(["--host", "127.0.0.1", "--port", "0", "--alias", "tiny", "--jinja", "--no-webui"])
            .args(["-t", "2", "-c", &options.context.to_string(), "-np", &options.slots.to_string()]);
        if let Some(key) = &options.api_key {
            command.args(["--api-key", key]);
        }
        if options.embeddings {
            command.args(["--embeddings", "--pooling", "mean"]);
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child =
            command.spawn().unwrap_or_else(|err| panic!("cannot start {}: {err}", peer.bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        // Both pipes are drained for the server's whole life (a full pipe would block it); the
        // lines are kept for failure messages.
        let stdout = child.stdout.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
        let stderr = child.stderr.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
        for pipe in [stdout, stderr].into_iter().flatten() {
            let log = log.clone();
            let port_tx = port_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Some(port) = listening_port(&line) {
                        let _ = port_tx.send(port);
                    }
                    if let Ok(mut log) = log.lock() {
                        log.push(line);
                    }
                }
            });
        }
        drop(port_tx);
        let mut server = Self { child, port: 0, log };
        server.port = match port_rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => port,
            Err(err) => panic!(
                "llama-server printed no port within {START_TIMEOUT:?} ({err}); log:\n{}",
                server.log()
            ),
        };
        server.wait_healthy();
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The OpenAI base URL: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|log| log.join("\n")).unwrap_or_default()
    }

    /// Kills the server (SIGKILL) and waits for it to exit. Idempotent.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Polls `GET /health` until it answers 200.
    fn wait_healthy(&mut self) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("llama-server exited ({status}) before it was ready; log:\n{}", self.log());
            }
            match http_get(self.port, "/health") {
                Ok((200, _)) => return,
                Ok((status, body)) => last = format!("HTTP {status}: {body}"),
                Err(err) => last = err.to_string(),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("llama-server not healthy within {START_TIMEOUT:?} (last: {last}); log:\n{}", self.log());
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The port in llama-server's `… listening on http://127.0.0.1:PORT` log line.
fn listening_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    let port: String = rest.split_once(':')?.1.chars().take_while(char::is_ascii_digit).collect();
    port.parse().ok().filter(|port| *port != 0)
}

/// A minimal blocking `GET` on 127.0.0.1: the status and the body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {answer:?}")))?;
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_port_is_read_from_the_log_line() {
        let line = "main: server is listening on http://127.0.0.1:41237 - starting the main loop";
        assert_eq!(super::listening_port(line), Some(41237));
        assert_eq!(super::listening_port("srv  init: listening on http://127.0.0.1:8080"), Some(8080));
        assert_eq!(super::listening_port("loading model"), None);
    }
}
