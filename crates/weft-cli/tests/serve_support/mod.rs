//! A running `weft serve` for the tests that drive it: the URL it prints, raw HTTP over a
//! socket, SIGTERM.
// Each test binary uses its own part of this.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::weft;

/// A running `weft serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    /// The base URL it printed (ends in /v1).
    pub url: String,
}

impl Server {
    /// `weft serve --port 0` (the demo agent).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// `weft serve --port 0 ARGS…`.
    pub fn start_with(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// `weft serve --port 0 ARGS…` with the variables `env` set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = weft()
            .args(["serve", "--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the weft binary starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver.recv_timeout(Duration::from_secs(20)).expect("weft serve printed its URL");
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"), "{url:?}");
        Self { child, url }
    }

    /// `host:port` of the server.
    pub fn address(&self) -> String {
        self.url.trim_start_matches("http://").trim_end_matches("/v1").to_string()
    }

    /// A GET over a plain socket: the status line and the body.
    pub fn get(&self, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(self.address()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// A JSON POST over a plain socket: the status line, headers and body.
    pub fn post(&self, path: &str, body: &str) -> String {
        let mut stream = std::net::TcpStream::connect(self.address()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Sends SIGTERM and waits (up to 20 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal_term();
        self.wait()
    }

    /// Sends SIGTERM.
    pub fn signal_term(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Kills the server at once (SIGKILL: nothing is flushed or closed) and reaps it.
    pub fn crash(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits (up to 20 s) for the exit status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "weft serve did not stop within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON body of a raw HTTP answer (after its headers).
pub fn json_body(answer: &str) -> serde_json::Value {
    let (_, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer has a body");
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {answer}"))
}
