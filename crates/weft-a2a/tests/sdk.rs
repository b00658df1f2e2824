//! The official `a2a-sdk` Python client (1.3.0) against Weft's A2A server: JSON-RPC 1.0 and 0.3,
//! HTTP+JSON, streaming, get, list and cancel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{TestHost, peer};
use weft_host::HostConfig;

#[tokio::test]
#[ignore = "needs the a2a-sdk Python package: scripts/test installs them"]
async fn the_a2a_sdk_client_drives_every_binding() {
    let python = peer("WEFT_A2A_PYTHON");
    let host = TestHost::start(HostConfig::default()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/a2a_sdk.py");
    let child = tokio::process::Command::new(python).arg(script).arg(&host.url).kill_on_drop(true).output();
    let output =
        tokio::time::timeout(Duration::from_secs(60), child).await.expect("the client hung").unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    host.a2a.shutdown().await;
}
