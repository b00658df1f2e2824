//! `weft run --provider foundry` and `--provider azure` signed in with Microsoft Entra ID: a
//! fake `az` on `PATH` gives the token, a local server plays the project or the resource and
//! shows what it was sent.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{text, weft};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A server that answers one connection with `response` and hands back the request head.
fn one_shot_server(response: String) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    listener.set_nonblocking(true).expect("nonblocking");
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return String::new(),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut reader = BufReader::new(stream);
        let (mut head, mut length) = (String::new(), 0);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let _ = reader.into_inner().write_all(response.as_bytes());
        head
    });
    (address, handle)
}

fn json_response(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A `weft` whose Microsoft Entra ID sign-in ends at a fake `az` printing `cli-token`: no
/// environment credential, and a managed identity endpoint where nothing listens.
fn signed_in_weft(dir: &std::path::Path) -> Command {
    let expires = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
    let script = dir.join("az");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho '{{\"accessToken\":\"cli-token\",\"expires_on\":{expires}}}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    let mut command = weft();
    command
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("IDENTITY_ENDPOINT", format!("http://{closed}/msi/token"))
        .env("IDENTITY_HEADER", "unused");
    command
}

#[test]
fn foundry_calls_the_projects_responses_api_with_an_entra_token() {
    let dir = tempfile::tempdir().unwrap();
    let answer = r#"{"id":"r1","status":"completed","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello from Foundry."}]}]}"#;
    let (base, server) = one_shot_server(json_response(answer));
    let output = signed_in_weft(dir.path())
        .env("FOUNDRY_PROJECT_ENDPOINT", format!("{base}/api/projects/my-project"))
        .env("FOUNDRY_MODEL_DEPLOYMENT_NAME", "gpt-4o-mini")
        .args(["run", "--provider", "foundry", "Hi"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Hello from Foundry."), "{stdout}");
    let head = server.join().unwrap().to_lowercase();
    assert!(head.starts_with("post /api/projects/my-project/openai/v1/responses http/1.1\r\n"), "{head}");
    assert!(head.contains("authorization: bearer cli-token\r\n"), "{head}");
    assert!(!stderr.contains("cli-token"), "{stderr}");
}

#[test]
fn azure_without_a_key_signs_in_with_entra() {
    let dir = tempfile::tempdir().unwrap();
    let answer = r#"{"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from Azure."},"finish_reason":"stop"}]}"#;
    let (base, server) = one_shot_server(json_response(answer));
    let output = signed_in_weft(dir.path())
        .env("AZURE_OPENAI_ENDPOINT", &base)
        .env("AZURE_OPENAI_DEPLOYMENT", "my-gpt")
        .args(["run", "--provider", "azure", "Hi"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Hello from Azure."), "{stdout}");
    let head = server.join().unwrap().to_lowercase();
    assert!(
        head.starts_with(
            "post /openai/deployments/my-gpt/chat/completions?api-version=2024-10-21 http/1.1\r\n"
        ),
        "{head}"
    );
    assert!(head.contains("authorization: bearer cli-token\r\n"), "{head}");
    assert!(!head.contains("api-key"), "{head}");
}

#[test]
fn foundry_without_a_project_says_what_to_set() {
    let output = weft().args(["run", "--provider", "foundry", "Hi"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("FOUNDRY_PROJECT_ENDPOINT"), "{}", text(&output.stderr));
}

#[test]
fn run_help_names_the_azure_and_foundry_variables() {
    let output = weft().args(["run", "--help"]).output().unwrap();
    let help = text(&output.stdout);
    for name in ["FOUNDRY_PROJECT_ENDPOINT", "AZURE_OPENAI_ENDPOINT", "AZURE_FEDERATED_TOKEN_FILE", "foundry"]
    {
        assert!(help.contains(name), "{name} missing from:\n{help}");
    }
}
