//! Runs a weft-workflow `Workflow` on Restate, a human's review answered through a durable
//! promise: serves the demo research workflow (`weft_restate::demo_workflow`) in this process,
//! registers it with a running restate-server, starts a run, waits until it asks for a review,
//! answers it, and prints the report.
//!
//! ```text
//! source scripts/peers/restate.sh
//! RESTATE_INGRESS__BIND_ADDRESS=127.0.0.1:8080 RESTATE_ADMIN__BIND_ADDRESS=127.0.0.1:9070 \
//!   "$WEFT_RESTATE_SERVER" --base-dir /tmp/restate --node-name n1 --bind-ip 127.0.0.1 &
//! cargo run -p weft-restate --example restate_workflow -- http://127.0.0.1:8080 http://127.0.0.1:9070
//! ```
//!
//! Prints `asked: …` (the review request), `report: …` (the run's output) and `phase: completed`.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft_restate::demo::DemoSettings;
use weft_restate::demo_workflow::{Job, ReviewAnswer, workflow};
use weft_restate::{
    RunPhase, StepRetry, WorkflowReply, WorkflowStatus, bind, register, serve, workflow_endpoint,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Calls a handler of the workflow `key` through the ingress.
async fn call(
    client: &reqwest::Client,
    ingress: &str,
    key: &str,
    handler: &str,
    body: Value,
) -> Result<Value, Error> {
    let request = client.post(format!("{ingress}/WeftWorkflow/{key}/{handler}"));
    // A handler without input (`status`) takes no body.
    let request = if body.is_null() { request } else { request.json(&body) };
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        return Err(format!("{handler} failed ({status}): {text}").into());
    }
    Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? })
}

async fn run(ingress: &str, admin: &str) -> Result<(), Error> {
    let flow = workflow(&DemoSettings {
        counts: None,
        lookup_delay: Duration::from_millis(200),
        as_middleware: false,
    })?;
    let listener = bind(([127, 0, 0, 1], 0).into()).await?;
    let deployment = format!("http://{}", listener.local_addr()?);
    let cancel = CancellationToken::new();
    let server = serve(workflow_endpoint(flow, StepRetry::default()), listener, cancel.clone());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let key = format!("example-{}", std::process::id());
    let work = async {
        register(admin, &deployment).await?;
        let job = Job { topic: "the Eiffel Tower".into(), review: true };
        call(&client, ingress, &key, "run/send", json!(job)).await?;
        let request = loop {
            let status: Option<WorkflowStatus> =
                serde_json::from_value(call(&client, ingress, &key, "status", Value::Null).await?)?;
            if let Some(request) = status.and_then(|s| s.pending_requests.into_iter().next()) {
                break request;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        println!("asked: {}", request.data);
        let answer = ReviewAnswer { approved: true, note: "looks right".into() };
        call(
            &client,
            ingress,
            &key,
            "respond",
            json!({ "request_id": request.request_id, "answer": answer }),
        )
        .await?;
        let attached =
            client.get(format!("{ingress}/restate/workflow/WeftWorkflow/{key}/attach")).send().await?;
        let reply: WorkflowReply = attached.error_for_status()?.json().await?;
        for output in &reply.outputs {
            println!("report: {}", output.value);
        }
        let status: WorkflowStatus =
            serde_json::from_value(call(&client, ingress, &key, "status", Value::Null).await?)?;
        let phase = if status.phase == RunPhase::Completed { "completed" } else { "not completed" };
        println!("phase: {phase}");
        Ok::<(), Error>(())
    };
    tokio::pin!(server);
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = &mut server => Err("the worker stopped".into()),
    };
    // Dropping the server future (after the token) stops it.
    cancel.cancel();
    outcome
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ingress, admin] = args.as_slice() else {
        eprintln!(
            "usage: restate_workflow INGRESS_URL ADMIN_URL (e.g. http://127.0.0.1:8080 http://127.0.0.1:9070)"
        );
        return std::process::ExitCode::FAILURE;
    };
    match run(ingress, admin).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("restate_workflow: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
