//! `weft mcp …` and `weft run --mcp` against real MCP servers (server-everything on stdio and
//! streamable HTTP, the Python `mcp` server), plus the failures that need no peer: a refused
//! port, a command that does not exist, a server that never answers, a server that says 401.
//! The peers come from `scripts/peers/mcp.sh` (WEFT_MCP_NODE, WEFT_MCP_EVERYTHING,
//! WEFT_MCP_PYTHON); the tests that need them are `#[ignore]`d unless run by `scripts/test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The value of a peer variable (a path that exists); panics naming the variable when it is
/// missing. The tests that call it are `#[ignore]`d unless run by scripts/test, which installs the
/// peers.
fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs the MCP peers; run scripts/test, \
             or `source scripts/peers/mcp.sh` first"
        ),
    }
}

fn everything_stdio() -> String {
    format!("{} {} stdio", peer("WEFT_MCP_NODE"), peer("WEFT_MCP_EVERYTHING"))
}

/// The Python test server on stdio, as a command line.
fn python_stdio() -> String {
    let server = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../weft-mcp/tests/servers/py_server.py");
    format!("{} {} stdio", peer("WEFT_MCP_PYTHON"), server.display())
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `stdin` as input, killed after 60 s.
fn weft(args: &[&str], stdin: &str) -> Run {
    let mut command = common::weft();
    let mut child = command
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let status = wait(&mut child, Duration::from_secs(60));
    writer.join().unwrap();
    let run = Run { code: status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    eprintln!("weft {args:?} → {}\nstdout:\n{}\nstderr:\n{}", run.code, run.stdout, run.stderr);
    run
}

fn wait(child: &mut Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("weft did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// server-everything on streamable HTTP, killed when dropped.
struct HttpServer {
    child: Child,
    url: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn everything_http() -> HttpServer {
    let (node, everything) = (peer("WEFT_MCP_NODE"), peer("WEFT_MCP_EVERYTHING"));
    let port = free_port();
    let child = Command::new(node)
        .arg(everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = HttpServer { child, url: format!("http://127.0.0.1:{port}/mcp") };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server-everything did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn tools_lists_names_parameters_and_schemas() {
    let server = everything_stdio();
    let run = weft(&["mcp", "tools", &server], "");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("get-sum(a: number, b: number)\n"), "{}", run.stdout);
    assert!(run.stdout.contains("echo(message: string)\n"), "{}", run.stdout);

    let run = weft(&["mcp", "tools", "--json", "--stdio", &server], "");
    assert_eq!(run.code, 0);
    let tools: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let sum = tools.iter().find(|t| t["name"] == "get-sum").unwrap();
    assert_eq!(sum["input_schema"]["properties"]["a"]["type"], "number");
    assert!(sum["description"].as_str().unwrap().to_lowercase().contains("sum"));
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn call_prints_text_and_describes_images_over_http() {
    let server = everything_http();
    let run = weft(&["mcp", "call", &server.url, "get-sum", "--arg", "a=2", "--arg", "b=3"], "");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains('5'), "{}", run.stdout);

    // A string argument that looks like a number stays a string (the schema says so).
    let run = weft(&["mcp", "call", &server.url, "echo", "--arg", "message=42"], "");
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.trim(), "Echo: 42");

    let run = weft(&["mcp", "call", &server.url, "get-tiny-image"], "");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("[image: image/png, "), "{}", run.stdout);

    // server-everything (the TypeScript SDK) would answer an unknown tool with an isError
    // result; the CLI knows the tool list and says so itself, with the code its help gives.
    let run = weft(&["mcp", "call", &server.url, "no-such-tool"], "");
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let prefix = format!("weft: error: {}: no tool named 'no-such-tool'; its tools: echo, ", server.url);
    assert!(run.stderr.starts_with(&prefix), "{}", run.stderr);
}

/// The exit code `--help` gives for a line mentioning `what`.
fn documented_code(help: &str, what: &str) -> i32 {
    let table = &help[help.find("Exit codes:").expect("a table")..];
    let mut code = None;
    for line in table.lines().skip(1) {
        if let Some(number) = line.split_whitespace().next().and_then(|word| word.parse::<i32>().ok()) {
            code = Some(number);
        }
        if line.contains(what) {
            return code.expect("a code before the line");
        }
    }
    panic!("no line mentions {what:?}:\n{table}");
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn an_unknown_tool_exits_with_the_code_the_help_gives() {
    let server = python_stdio();
    for help_args in [&["mcp", "--help"][..], &["run", "--help"]] {
        let help = weft(help_args, "");
        assert_eq!(documented_code(&help.stdout, "an unknown tool"), 2, "{help_args:?}");
    }
    let run = weft(&["mcp", "call", &server, "no_such_tool"], "");
    assert_eq!(run.code, documented_code(&weft(&["mcp", "--help"], "").stdout, "an unknown tool"));
    assert!(run.stderr.contains("no tool named 'no_such_tool'; its tools: "), "{}", run.stderr);
    assert!(run.stderr.contains("add_numbers"), "{}", run.stderr);
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn tools_show_enum_choices_and_required_arguments() {
    let server = everything_stdio();
    let run = weft(&["mcp", "tools", &server], "");
    assert_eq!(run.code, 0);
    for line in [
        "    - messageType (string, required; one of: \"error\", \"success\", \"debug\"): ",
        "    - includeImage (boolean, optional; default false): ",
        "    - location (string, required; one of: \"New York\", \"Chicago\", \"Los Angeles\"): ",
        "    - a (number, required): ",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn a_long_tool_draws_a_progress_bar_on_a_terminal_only() {
    let server = everything_stdio();
    let weft_bin = env!("CARGO_BIN_EXE_weft");
    let call = format!(
        "{weft_bin} mcp call '{server}' trigger-long-running-operation --arg duration=2 --arg steps=4"
    );
    // `script` gives the command a terminal; its output is what the terminal showed.
    let output = Command::new("script")
        .args(["-qec", &call, "/dev/null"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("Long running operation completed"), "{screen}");
    assert!(screen.contains("2/4") && screen.contains("%"), "a bar was drawn: {screen:?}");

    // Piped, stderr stays clean.
    let run = weft(
        &[
            "mcp",
            "call",
            &server,
            "trigger-long-running-operation",
            "--arg",
            "duration=1",
            "--arg",
            "steps=2",
        ],
        "",
    );
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn python_server_structured_results_is_error_prompts_and_resources() {
    let server = python_stdio();
    let run = weft(&["mcp", "call", &server, "add_numbers", "--json-args", r#"{"a": 2, "b": 3.5}"#], "");
    assert_eq!(run.code, 0);
    let value: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["total"], 5.5);

    let run = weft(&["mcp", "call", &server, "fail", "--arg", "message=boom"], "");
    assert_eq!(run.code, 8, "isError → the tool-error code");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("tool 'fail' failed: "), "{}", run.stderr);
    assert!(run.stderr.contains("failure requested: boom"), "{}", run.stderr);

    let run = weft(&["mcp", "prompts", &server], "");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("greet(name)\n    A greeting prompt."), "{}", run.stdout);
    let run = weft(&["mcp", "prompt", &server, "greet", "--arg", "name=Ada"], "");
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.trim(), "user: Please greet Ada warmly.");

    let run = weft(&["mcp", "resources", &server], "");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("test://hello  hello"), "{}", run.stdout);
    let run = weft(&["mcp", "read", &server, "test://hello"], "");
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "hello from the resource\n");
    let run = weft(&["mcp", "read", "--json", &server, "test://hello"], "");
    let contents: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(contents[0]["type"], "text");
}

#[test]
fn an_unreachable_url_is_one_line_and_code_4() {
    let url = format!("http://127.0.0.1:{}/mcp", free_port());
    let run = weft(&["mcp", "tools", &url], "");
    assert_eq!(run.code, 4);
    assert_eq!(run.stderr, format!("weft: error: cannot reach {url}: connection refused\n"));
}

#[test]
fn a_missing_command_is_one_line_and_code_4() {
    let run = weft(&["mcp", "tools", "weft-no-such-command --flag"], "");
    assert_eq!(run.code, 4);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("weft: error: cannot start weft-no-such-command --flag: "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_silent_server_times_out_with_code_5() {
    // Accepts TCP (the backlog) and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let started = Instant::now();
    let run = weft(&["mcp", "tools", "--timeout", "1", &url], "");
    assert_eq!(run.code, 5);
    assert_eq!(run.stderr, format!("weft: error: {url}: timed out after 1 s waiting for initialize\n"));
    assert!(started.elapsed() < Duration::from_secs(15));
    drop(listener);
}

#[test]
fn http_401_is_an_auth_error_with_code_6() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut answered = 0;
        while Instant::now() < deadline && answered < 3 {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut buffer = [0u8; 8192];
                    let _ = stream.read(&mut buffer);
                    let _ = stream.write_all(
                        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    answered += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    let run = weft(&["mcp", "tools", "--bearer", "wrong", &url], "");
    assert_eq!(run.code, 6);
    assert_eq!(run.stderr, format!("weft: error: {url}: unauthorized (HTTP 401)\n"));
    drop(server);
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn run_with_mcp_calls_get_sum_on_the_scripted_model() {
    let server = everything_stdio();
    let run = weft(&["run", "--mcp", &server, "add 2 and 3"], "");
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("→ get-sum {\"a\":2.0,\"b\":3.0}"), "{}", run.stderr);
    assert!(run.stdout.contains('5'), "{}", run.stdout);
    // The demo tools are not offered next to a server's.
    assert!(!run.stderr.contains("→ add "), "{}", run.stderr);
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[test]
fn run_with_approve_asks_before_each_call() {
    let server = everything_stdio();
    let run = weft(&["run", "--approve", "--mcp", &server, "add 2 and 3"], "y\n");
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("weft: run get-sum {\"a\":2.0,\"b\":3.0}? [y/n/a(lways)]"), "{}", run.stderr);
    assert!(run.stdout.contains("is 5"), "{}", run.stdout);

    let run = weft(&["run", "--approve", "--mcp", &server, "add 2 and 3"], "n\n");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("did not approve"), "{}", run.stdout);
    assert!(!run.stdout.contains("is 5"), "{}", run.stdout);
}

#[test]
fn run_with_an_unreachable_server_fails_before_the_model() {
    let url = format!("http://127.0.0.1:{}/mcp", free_port());
    let run = weft(&["run", "--mcp", &url, "hello"], "");
    assert_eq!(run.code, 4);
    assert_eq!(run.stderr, format!("weft: error: cannot reach {url}: connection refused\n"));
}

#[test]
fn mcp_help_documents_the_exit_codes() {
    let run = weft(&["mcp", "--help"], "");
    assert_eq!(run.code, 0);
    for line in [
        "4    an MCP server cannot be reached",
        "5    an MCP server timed out",
        "6    an MCP server refused",
        "8    an MCP tool reported an error",
    ] {
        assert!(run.stdout.contains(line), "{line}: {}", run.stdout);
    }
}
