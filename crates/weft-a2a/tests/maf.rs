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
