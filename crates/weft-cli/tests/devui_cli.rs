//! `weft serve --ui` and `weft devui`: the page is served with its headers beside the API, and
//! `weft devui` opens it with xdg-open only on a desktop and unless --no-open.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::weft;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running weft, killed when dropped, and its address.
struct Running {
    child: Child,
    address: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(mut command: std::process::Command) -> Running {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("weft starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver.recv_timeout(Duration::from_secs(20)).expect("weft printed its URL");
    let address = line.trim().trim_start_matches("http://").trim_end_matches("/v1").to_string();
    Running { child, address }
}

fn get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.to_lowercase()
}

#[test]
fn serve_ui_serves_the_page_with_strict_headers_beside_the_api() {
    let mut command = weft();
    command.args(["serve", "--ui", "--port", "0"]);
    let server = start(command);
    let page = get(&server.address, "/");
    assert!(page.starts_with("http/1.1 200"), "{page}");
    assert!(page.contains("content-security-policy: default-src 'self'"), "{page}");
    assert!(page.contains("x-content-type-options: nosniff") && page.contains("weft devui"), "{page}");
    assert!(get(&server.address, "/v1/models").contains("\"weft\""));
    // The trace view's API: the recent runs this process recorded (none yet).
    let traces = get(&server.address, "/v1/traces");
    assert!(traces.starts_with("http/1.1 200") && traces.contains("\"data\":[]"), "{traces}");
}

#[test]
fn serve_without_ui_serves_no_page() {
    let mut command = weft();
    command.args(["serve", "--port", "0"]);
    let server = start(command);
    assert!(get(&server.address, "/").starts_with("http/1.1 404"));
    // Without the page, nothing records traces.
    assert!(get(&server.address, "/v1/traces").starts_with("http/1.1 404"));
}

/// `weft devui` with a fake xdg-open on PATH that records its argument in `record`.
fn devui_with_fake_opener(
    display: Option<&str>,
    extra: &[&str],
) -> (Running, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("opened");
    let opener = dir.path().join("xdg-open");
    std::fs::write(&opener, format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", record.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let mut command = weft();
    command.args(["devui", "--port", "0"]).args(extra).env("PATH", path).env_remove("WAYLAND_DISPLAY");
    match display {
        Some(display) => command.env("DISPLAY", display),
        None => command.env_remove("DISPLAY"),
    };
    (start(command), record, dir)
}

#[test]
fn devui_opens_the_page_on_a_desktop() {
    let (server, record, _dir) = devui_with_fake_opener(Some(":99"), &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    // The shell creates the file before printf writes to it: wait for its content.
    while std::fs::read_to_string(&record).map_or(true, |text| text.is_empty()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let opened = std::fs::read_to_string(&record).expect("xdg-open was run");
    assert_eq!(opened, format!("http://{}/", server.address));
    assert!(get(&server.address, "/").starts_with("http/1.1 200"));
}

#[test]
fn devui_opens_nothing_without_a_desktop_or_with_no_open() {
    for (display, extra) in [(None, &[][..]), (Some(":99"), &["--no-open"][..])] {
        let (server, record, _dir) = devui_with_fake_opener(display, extra);
        // The page answers, so the server is up; an opener, started once it listens, has had time.
        assert!(get(&server.address, "/").starts_with("http/1.1 200"));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!record.exists(), "xdg-open ran (DISPLAY {display:?}, {extra:?})");
    }
}
