//! A durable agent on a 3-node Restate cluster on this machine (replication 2): a node is
//! `kill -9`-ed while a run is mid-tool-call, the run still finishes, completed calls are not
//! made again, and the conversation is read through another node. `#[ignore]`d unless run by
//! `scripts/test`; by hand:
//! `source scripts/peers/restate.sh && cargo nextest run -p weft-restate --run-ignored all -E 'binary(cluster)'`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{START_TIMEOUT, Worker, WorkerSettings, free_port, log_of, send};
use weft_restate::TurnReply;
use weft_restate::demo::{MODEL_COUNT_FILE, count_calls, tool_count_file};

const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// One node of the cluster: its ports and process (killed on drop).
struct Node {
    child: Option<Child>,
    admin: String,
    ingress: String,
    log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Node {
    /// `kill -9`.
    fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// The configuration of node `index` (1-based) of a cluster whose nodes talk on `fabric` ports:
/// every node runs every role; node 1 provisions the cluster; logs and partitions are kept on
/// two nodes, so one node can fail.
fn node_config(dir: &Path, index: usize, fabric: &[u16], admin: u16, ingress: u16) -> String {
    let peers: Vec<String> = fabric.iter().map(|port| format!("\"http://127.0.0.1:{port}\"")).collect();
    let port = fabric[index - 1];
    format!(
        r#"node-name = "n{index}"
cluster-name = "weft-test-cluster"
auto-provision = {auto}
default-replication = 2
advertised-address = "http://127.0.0.1:{port}"
bind-address = "127.0.0.1:{port}"
base-dir = "{base}"

[metadata-client]
addresses = [{peers}]

[bifrost]
default-provider = "replicated"

[admin]
bind-address = "127.0.0.1:{admin}"

[ingress]
bind-address = "127.0.0.1:{ingress}"
"#,
        auto = index == 1,
        base = dir.join(format!("n{index}")).display(),
        peers = peers.join(", "),
    )
}

/// Starts three nodes and waits until each node's admin API and ingress answer.
async fn start_cluster(dir: &Path) -> Vec<Node> {
    let bin = match std::env::var_os("WEFT_RESTATE_SERVER").filter(|value| !value.is_empty()) {
        Some(value) => PathBuf::from(value),
        None => panic!(
            "needs restate-server, but WEFT_RESTATE_SERVER is not set; run scripts/test, or `source scripts/peers/restate.sh` first"
        ),
    };
    let fabric = [free_port(), free_port(), free_port()];
    let mut nodes = Vec::new();
    for index in 1..=3 {
        let (admin, ingress) = (free_port(), free_port());
        let config = dir.join(format!("n{index}.toml"));
        std::fs::write(&config, node_config(dir, index, &fabric, admin, ingress)).unwrap();
        let log = dir.join(format!("n{index}.log"));
        let output = std::fs::File::create(&log).unwrap();
        let child = Command::new(&bin)
            .arg("--config-file")
            .arg(&config)
            .arg("--no-logo")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        nodes.push(Node {
            child: Some(child),
            admin: format!("http://127.0.0.1:{admin}"),
            ingress: format!("http://127.0.0.1:{ingress}"),
            log,
        });
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + START_TIMEOUT;
    for node in &nodes {
        for url in [format!("{}/health", node.admin), format!("{}/restate/health", node.ingress)] {
            while !client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                assert!(
                    Instant::now() < deadline,
                    "{url} did not answer; the node's log:\n{}",
                    log_of(&node.log)
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_run_finishes_when_a_node_of_a_three_node_cluster_is_killed_mid_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = start_cluster(dir.path()).await;
    let settings = WorkerSettings::in_dir(dir.path(), 2000, 5);
    let counts = settings.counts.clone();
    let _worker = Worker::start(settings, Some(&nodes[0].admin));
    // The registration (made through node 1) reaches the other nodes' metadata a moment later.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + START_TIMEOUT;
    for node in &nodes[1..] {
        let url = format!("{}/services/WeftAgent", node.admin);
        while !client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(Instant::now() < deadline, "{url}: the service never showed up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // The run goes in through node 2; node 1 (the one that provisioned the cluster) is killed
    // while the run's slow tool call is under way.
    let ingress = nodes[1].ingress.clone();
    let run = send(&ingress, "conv-cluster", "note and lookup the Eiffel Tower");
    let kill = async {
        let deadline = Instant::now() + TEST_TIMEOUT;
        while count_calls(&counts, &tool_count_file("slow_lookup")) < 1 {
            assert!(Instant::now() < deadline, "slow_lookup was never called");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        nodes[0].kill();
    };
    let (response, ()) = tokio::time::timeout(TEST_TIMEOUT, async { tokio::join!(run, kill) })
        .await
        .expect("the run did not finish");
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(
        status.is_success(),
        "the run failed ({status}): {body}\nnode 2's log:\n{}",
        log_of(&nodes[1].log)
    );
    let reply: TurnReply = serde_json::from_str(&body).unwrap();
    assert!(reply.text.contains("slow_lookup returned: found:"), "{}", reply.text);

    // Completed calls were not made again; the interrupted one ran at least once.
    assert_eq!(count_calls(&counts, MODEL_COUNT_FILE), 2);
    assert_eq!(count_calls(&counts, &tool_count_file("note_fact")), 1);
    let lookups = count_calls(&counts, &tool_count_file("slow_lookup"));
    // At least once: each leadership change while it runs may start it again (CI saw 3).
    assert!(lookups >= 1, "slow_lookup never ran");

    // The conversation, read through node 3, holds the turn once.
    let messages: Value = reqwest::Client::new()
        .post(format!("{}/WeftAgent/conv-cluster/messages", nodes[2].ingress))
        .timeout(TEST_TIMEOUT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = messages.as_array().unwrap().iter().filter(|m| m["role"] == "user").count();
    assert_eq!(users, 1, "{messages:#}");
}
