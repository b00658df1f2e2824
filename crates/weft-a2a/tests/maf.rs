//! Interop with Microsoft Agent Framework (MAF), the incumbent, through its own A2A packages
//! (`scripts/peers/maf.sh`): MAF's `A2AAgent` calling a Weft agent served by weft-a2a.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::TestHost;
use weft_host::HostConfig;

/// The python of the MAF venv; panics when the peer is missing.
fn maf_python() -> String {
    match std::env::var("WEFT_MAF_PYTHON") {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "WEFT_MAF_PYTHON is not set (or does not exist): this test needs MAF's Python packages; run \
             scripts/test, or `source scripts/peers/maf.sh` first"
        ),
    }
}

#[tokio::test]
#[ignore = "needs MAF: scripts/test installs them"]
async fn mafs_a2a_agent_calls_a_weft_agent() {
    let python = maf_python();
    let host = TestHost::start(HostConfig::default()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/maf/maf_client.py");
    let child = tokio::process::Command::new(python)
        .arg(script)
        .arg(host.agent_url("helper"))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), child).await.expect("MAF hung").unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "MAF's client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    host.a2a.shutdown().await;
}

/// The MAF server (`tests/maf/maf_server.py`), killed when dropped.
struct MafServer {
    url: String,
    _child: tokio::process::Child,
    _history: tempfile::TempDir,
}

async fn maf_server() -> MafServer {
    use tokio::io::AsyncBufReadExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/maf/maf_server.py");
    let history = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(maf_python())
        .arg(script)
        .arg(history.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the MAF server did not start")
        .unwrap()
        .expect("the MAF server exited");
    let port = line.strip_prefix("listening on ").expect("the port line");
    MafServer { url: format!("http://127.0.0.1:{port}"), _child: child, _history: history }
}

#[tokio::test]
#[ignore = "needs MAF: scripts/test installs them"]
async fn weft_calls_a_maf_agent_served_over_a2a() {
    use futures::StreamExt;
    use weft_a2a::A2AAgent;
    use weft_a2a::client::Binding;
    use weft_core::AgentSession;

    let server = maf_server().await;
    for binding in [Binding::JsonRpc, Binding::HttpJson] {
        let agent = A2AAgent::builder(&server.url).binding(binding).connect().await.unwrap();
        assert_eq!(weft_core::Agent::name(&agent), "maf-agent");
        let mut session = AgentSession::new();
        assert_eq!(agent.run(&mut session, "hello").await.unwrap().text(), "MAF heard: hello", "{binding:?}");
        let mut streamed = String::new();
        {
            let mut stream = agent.run_stream(&mut session, "My name is Ada.");
            while let Some(update) = stream.next().await {
                streamed.push_str(&update.unwrap().text_content());
            }
        }
        assert_eq!(streamed, "MAF heard: My name is Ada.", "{binding:?}");
        let answer = agent.run(&mut session, "What is my name?").await.unwrap();
        assert_eq!(answer.text(), "Your name is Ada.", "MAF kept the conversation ({binding:?})");
    }
}
