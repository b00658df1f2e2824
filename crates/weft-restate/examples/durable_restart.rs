//! A durable agent and a durable workflow surviving `kill -9` of their worker.
//!
//! The example starts a worker process (itself, with the argument `worker`) serving the demo
//! agent and the demo research workflow to a running restate-server, and registers it. It sends
//! the agent a message whose tool takes a while, and starts a workflow run whose `lookup` step
//! takes a while. While both are inside those slow steps it kills the worker (`SIGKILL`), then
//! starts a new one on the same address. Restate replays both on the new worker: the agent's
//! answer and the workflow's report arrive, and the calls that had completed before the kill
//! (the first model call; the `plan` and `facts` steps) are not made again; only the steps the
//! kill interrupted ran twice. The workflow's human review is answered after the restart.
//!
//! ```text
//! source scripts/peers/restate.sh
//! RESTATE_INGRESS__BIND_ADDRESS=127.0.0.1:8080 RESTATE_ADMIN__BIND_ADDRESS=127.0.0.1:9070 \
//!   "$WEFT_RESTATE_SERVER" --base-dir /tmp/restate --node-name n1 --bind-ip 127.0.0.1 &
//! cargo run -p weft-restate --example durable_restart -- http://127.0.0.1:8080 http://127.0.0.1:9070
//! ```
//!
//! Prints `killed: …`, `restarted: …`, `agent: …` (the answer), `asked: …`, `report: …`, then a
//! line per counted call (`calls: NAME made N, M distinct`) and `repeated: …` (the steps that
//! ran again because the kill interrupted them).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use restate_sdk::endpoint::Endpoint;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use weft_restate::demo::{DemoSettings, agent};
use weft_restate::demo_workflow::{Job, ReviewAnswer, workflow};
use weft_restate::{
    AgentObject, StepRetry, TurnReply, WorkflowReply, WorkflowService, WorkflowStatus, bind, register, serve,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long the slow steps (the agent's `slow_lookup` tool, the workflow's `lookup`) take: long
/// enough to kill the worker inside them.
const SLOW_STEP: Duration = Duration::from_secs(3);

/// How long the example waits for anything before it gives up.
const PATIENCE: Duration = Duration::from_secs(90);

/// The worker: serves the demo agent and workflow on `address`, counting calls in `counts`.
async fn worker(address: SocketAddr, counts: PathBuf) -> Result<(), Error> {
    let settings = DemoSettings { counts: Some(counts), lookup_delay: SLOW_STEP, as_middleware: true };
    let retry = StepRetry::default();
    let endpoint = Endpoint::builder()
        .bind(AgentObject::new(agent(&settings), retry))
        .bind(WorkflowService::new(workflow(&settings)?, retry))
        .build();
    let listener = bind(address).await?;
    // The parent reads this line to learn the address (port 0 picks one).
    println!("serving on {}", listener.local_addr()?);
    serve(endpoint, listener, CancellationToken::new()).await;
    Ok(())
}

/// Starts a worker process on `address`; returns it and the address it listens on.
async fn start_worker(address: &str, counts: &Path) -> Result<(Child, String), Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("worker")
        .arg(address)
        .arg(counts)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("the worker has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .map_err(|_| "the worker did not start")??
        .ok_or("the worker exited before serving")?;
    let listening = line.strip_prefix("serving on ").ok_or_else(|| format!("the worker said {line:?}"))?;
    Ok((child, listening.to_owned()))
}

/// Calls `path` (a service, key and handler) through the ingress with `body` (none when null).
async fn call(client: &reqwest::Client, ingress: &str, path: &str, body: &Value) -> Result<Value, Error> {
    let request = client.post(format!("{ingress}/{path}"));
    let request = if body.is_null() { request } else { request.json(body) };
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        return Err(format!("{path} failed ({status}): {text}").into());
    }
    Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? })
}

/// The lines of the count file `name` (a line per call: the step's key).
fn calls(counts: &Path, name: &str) -> Vec<String> {
    std::fs::read_to_string(counts.join(name))
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Waits until every file of `names` counts a call.
async fn until_called(counts: &Path, names: &[&str]) -> Result<(), Error> {
    let deadline = Instant::now() + PATIENCE;
    while names.iter().any(|name| calls(counts, name).is_empty()) {
        if Instant::now() > deadline {
            return Err(format!("{names:?} were not all called within {PATIENCE:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn run(ingress: &str, admin: &str) -> Result<(), Error> {
    let counts = std::env::temp_dir().join(format!("weft-durable-restart-{}", std::process::id()));
    std::fs::create_dir_all(&counts)?;
    let (mut first, address) = start_worker("127.0.0.1:0", &counts).await?;
    register(admin, &format!("http://{address}")).await?;
    let client = reqwest::Client::builder().timeout(PATIENCE).build()?;
    let conversation = format!("durable-restart-{}", std::process::id());
    let run_key = conversation.clone();

    // The agent's message: its answer comes back on this request, after the restart.
    let message = json!({ "message": "lookup the Eiffel Tower" });
    let agent_path = format!("WeftAgent/{conversation}/send");
    let answer = call(&client, ingress, &agent_path, &message);
    tokio::pin!(answer);
    // The workflow run, started in the background (`run/send`).
    let job = serde_json::to_value(Job { topic: "the Eiffel Tower".into(), review: true })?;
    call(&client, ingress, &format!("WeftWorkflow/{run_key}/run/send"), &job).await?;

    // Kill the worker while the agent's tool and the workflow's lookup are running.
    let slow = ["tool-slow_lookup.count", "exec-lookup.count"];
    tokio::select! {
        waited = until_called(&counts, &slow) => waited?,
        replied = &mut answer => return Err(format!("the agent answered before the kill: {replied:?}").into()),
    }
    first.kill().await?;
    println!("killed: the worker at {address} (SIGKILL) inside slow_lookup and lookup");
    let (_second, _) = start_worker(&address, &counts).await?;
    println!("restarted: a new worker at {address}");

    let reply: TurnReply = serde_json::from_value(answer.await?)?;
    println!("agent: {}", reply.text);

    // The review, asked by the workflow on the new worker, answered now.
    let deadline = Instant::now() + PATIENCE;
    let request = loop {
        let status: Option<WorkflowStatus> = serde_json::from_value(
            call(&client, ingress, &format!("WeftWorkflow/{run_key}/status"), &Value::Null).await?,
        )?;
        if let Some(request) = status.and_then(|s| s.pending_requests.into_iter().next()) {
            break request;
        }
        if Instant::now() > deadline {
            return Err("the workflow did not ask for its review".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!("asked: {}", request.data);
    let review = ReviewAnswer { approved: true, note: "checked after the crash".into() };
    let answer = json!({ "request_id": request.request_id, "answer": review });
    call(&client, ingress, &format!("WeftWorkflow/{run_key}/respond"), &answer).await?;
    let attached =
        client.get(format!("{ingress}/restate/workflow/WeftWorkflow/{run_key}/attach")).send().await?;
    let reply: WorkflowReply = attached.error_for_status()?.json().await?;
    for output in &reply.outputs {
        println!("report: {}", output.value);
    }

    let mut names: Vec<String> =
        std::fs::read_dir(&counts)?.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    let mut repeated = Vec::new();
    for name in &names {
        let lines = calls(&counts, name);
        let mut distinct = lines.clone();
        distinct.sort();
        distinct.dedup();
        let what = name.trim_end_matches(".count");
        println!("calls: {what} made {}, {} distinct", lines.len(), distinct.len());
        if distinct.len() < lines.len() {
            repeated.push(what.to_owned());
        }
    }
    println!("repeated: {}", repeated.join(" "));
    std::fs::remove_dir_all(&counts)?;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [mode, address, counts] if mode == "worker" => match address.parse() {
            Ok(address) => worker(address, PathBuf::from(counts)).await,
            Err(error) => Err(format!("{address}: {error}").into()),
        },
        [ingress, admin] => run(ingress, admin).await,
        _ => {
            eprintln!(
                "usage: durable_restart INGRESS_URL ADMIN_URL (e.g. http://127.0.0.1:8080 http://127.0.0.1:9070)"
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("durable_restart: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
