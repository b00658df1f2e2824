//! A real LiteLLM proxy for tests, in front of a llama-server: started per test on a free port,
//! stopped on drop. It serves Gemini's `POST /v1beta/models/M:generateContent` (and
//! `:streamGenerateContent?alt=sse`) and Anthropic's `POST /v1/messages`, translating both to
//! the backend's chat completions.
//!
//! `scripts/peers/litellm.sh` installs it and exports `WEFT_LITELLM`. Without it [`peer`]
//! panics saying so; the tests that need it are `#[ignore]`d unless run by `scripts/test`.
//!
//! Only the standard library is used, so that other crates' tests can include this file with
//! `#[path = …]` (beside `weft-openai/tests/support/llama.rs`, which it needs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The longest wait for the proxy to answer its liveness probe (about 9 s on two idle cores;
/// far longer on a loaded machine, where Python's imports crawl).
const START_TIMEOUT: Duration = Duration::from_secs(150);

/// The proxy's master key: the key clients send (LiteLLM refuses to start without one).
pub const MASTER_KEY: &str = "sk-weft-litellm-test";

/// The model name the proxy serves (forwarded to the backend's `tiny`).
pub const MODEL: &str = "tiny";

/// The `litellm` command. A missing peer panics with what to do: such a test never passes
/// without running.
pub fn peer(test: &str) -> PathBuf {
    match std::env::var_os("WEFT_LITELLM").filter(|value| !value.is_empty()).map(PathBuf::from) {
        Some(bin) if bin.is_file() => bin,
        Some(bin) => panic!("{test}: WEFT_LITELLM={} is not a file; run scripts/test", bin.display()),
        None => panic!(
            "{test}: needs the LiteLLM proxy, but WEFT_LITELLM is not set; run scripts/test, or \
             `source scripts/peers/litellm.sh` first"
        ),
    }
}

/// A running proxy; killed (and waited for) on drop, its config removed.
pub struct LiteLlm {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl LiteLlm {
    /// Starts the proxy forwarding [`MODEL`] to the OpenAI-compatible server on
    /// `backend_port` (`http://127.0.0.1:PORT/v1`), and waits until it is alive.
    pub fn start(bin: &PathBuf, backend_port: u16) -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("weft-litellm-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Anthropic's endpoint goes through the backend's chat completions (llama-server also
        // has a Responses API, which LiteLLM would otherwise pick); no cooldowns, so that one
        // failed request does not take the only deployment out.
        let config = format!(
            "model_list:\n  - model_name: {MODEL}\n    litellm_params:\n      model: openai/tiny\n      \
             api_base: http://127.0.0.1:{backend_port}/v1\n      api_key: x\n\
             litellm_settings:\n  use_chat_completions_url_for_anthropic_messages: true\n\
             router_settings:\n  disable_cooldowns: true\n"
        );
        let config_path = dir.join("config.yaml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let mut command = Command::new(bin);
        command
            .arg("--config")
            .arg(&config_path)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("LITELLM_MASTER_KEY", MASTER_KEY)
            // Without it LiteLLM fetches its price list from GitHub at import, retrying for
            // seconds when there is no network.
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|err| panic!("cannot start {}: {err}", bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        // Both pipes are drained for the proxy's whole life (a full pipe would block it).
        let stdout = child.stdout.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
        let stderr = child.stderr.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
        for pipe in [stdout, stderr].into_iter().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut log) = log.lock() {
                        log.push(line);
                    }
                }
            });
        }
        let mut proxy = Self { child, port, dir, log };
        proxy.wait_alive();
        proxy
    }

    /// Its root: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the proxy logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|log| log.join("\n")).unwrap_or_default()
    }

    fn wait_alive(&mut self) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("litellm exited ({status}) before it was ready; log:\n{}", self.log());
            }
            match get(self.port, "/health/liveliness") {
                Ok(200) => return,
                Ok(status) => last = format!("HTTP {status}"),
                Err(err) => last = err.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("litellm not alive within {START_TIMEOUT:?} (last: {last}); log:\n{}", self.log());
    }
}

impl Drop for LiteLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port free now (the proxy cannot be given port 0 and report the one it got).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap()
}

/// A minimal blocking `GET` on 127.0.0.1: the status.
fn get(port: u16, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {answer:?}")))
}
