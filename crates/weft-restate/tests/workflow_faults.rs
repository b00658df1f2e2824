//! The demo workflow ([`weft_restate::demo_workflow`]) on a real restate-server with real worker
//! processes: a worker `kill -9`-ed mid-superstep finishes the run without repeating completed
//! executor invocations, with a local run's outputs; a human answer given after both the worker
//! and the server restarted finishes the run; a poison executor stops after its retries with a
//! typed error; requests for one workflow key start one run (another `run` for the key is
//! refused with 409; attaching gives the one run's reply). `#[ignore]`d unless run by
//! `scripts/test`; by hand:
//! `source scripts/peers/restate.sh && cargo nextest run -p weft-restate --run-ignored all`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{RestateServer, Worker, WorkerSettings};
use weft_restate::demo::{DemoSettings, count_calls};
use weft_restate::demo_workflow::{Job, Report, ReviewAnswer, executor_count_file, workflow};
use weft_restate::{RunPhase, WorkflowReply, WorkflowStatus};

const TEST_TIMEOUT: Duration = Duration::from_secs(120);

fn settings(dir: &Path, lookup_ms: u64, max_attempts: u32) -> WorkerSettings {
    WorkerSettings::in_dir(dir, lookup_ms, max_attempts)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(TEST_TIMEOUT).build().unwrap()
}

async fn call(url: String, body: Value) -> reqwest::Response {
    client().post(url).json(&body).send().await.unwrap()
}

async fn status(ingress: &str, key: &str) -> Option<WorkflowStatus> {
    let response = client().post(format!("{ingress}/WeftWorkflow/{key}/status")).send().await.unwrap();
    assert!(response.status().is_success(), "status failed: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn wait_for_count(dir: &Path, id: &str, at_least: usize) {
    let deadline = Instant::now() + TEST_TIMEOUT;
    while count_calls(dir, &executor_count_file(id)) < at_least {
        assert!(Instant::now() < deadline, "{id} did not reach {at_least} invocations");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn counts(dir: &Path) -> [usize; 5] {
    ["plan", "facts", "lookup", "poison", "review"].map(|id| count_calls(dir, &executor_count_file(id)))
}

/// The demo workflow's outputs in a local run, as `run` returns them.
async fn local_outputs(job: Job) -> Vec<Value> {
    let flow = workflow(&DemoSettings::default()).unwrap();
    let result = flow.run(job).await.unwrap();
    result.outputs.iter().map(|o| o.value.to_json().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_worker_killed_mid_superstep_finishes_without_repeating_completed_invocations() {
    let server = RestateServer::start("workflow kill mid superstep").await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 3000, 5);
    let counts_dir = settings.counts.clone();
    let job = Job { topic: "the Eiffel Tower".into(), review: false };
    let worker = Worker::start(settings.clone(), Some(&server.admin));
    let run = call(format!("{}/WeftWorkflow/kill-1/run", server.ingress), json!(job));
    let crash = async {
        // Superstep 2: `facts` is done and journaled, `lookup` is running.
        wait_for_count(&counts_dir, "lookup", 1).await;
        assert_eq!(counts(&counts_dir), [1, 1, 1, 0, 0]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        worker.kill();
        Worker::start(settings.clone(), None)
    };
    let (response, restarted) = tokio::time::timeout(TEST_TIMEOUT, async { tokio::join!(run, crash) })
        .await
        .expect("the run did not end");
    let code = response.status();
    let body = response.text().await.unwrap();
    assert!(code.is_success(), "the run failed ({code}): {body}\nrestate log:\n{}", server.log());
    let reply: WorkflowReply = serde_json::from_str(&body).unwrap();

    // Only the interrupted invocation ran again, under the same step key.
    assert_eq!(counts(&counts_dir), [1, 1, 2, 0, 1], "plan, facts, lookup (twice), poison, review");
    let keys = std::fs::read_to_string(counts_dir.join(executor_count_file("lookup"))).unwrap();
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys[0], keys[1], "one key for both attempts");
    assert!(keys[0].starts_with("inv_") && keys[0].ends_with("/superstep#2:lookup"), "{keys:?}");
    // The same outputs as a local run.
    let outputs: Vec<Value> = reply.outputs.iter().map(|o| o.value.clone()).collect();
    assert_eq!(outputs, local_outputs(job).await);
    assert_eq!(reply.outputs[0].type_name, "demo.Report");
    let done = status(&server.ingress, "kill-1").await.unwrap();
    assert_eq!((done.phase, done.superstep), (RunPhase::Completed, 3));
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_human_answer_after_worker_and_server_restarts_finishes_the_run() {
    let test = "workflow human input across restarts";
    let mut server = RestateServer::start(test).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 0, 5);
    let counts_dir = settings.counts.clone();
    let worker = Worker::start(settings.clone(), Some(&server.admin));
    let job = Job { topic: "the Louvre".into(), review: true };
    // Submitted without waiting for its end (`/send`).
    let submitted = call(format!("{}/WeftWorkflow/review-1/run/send", server.ingress), json!(job)).await;
    assert!(submitted.status().is_success(), "{}", submitted.text().await.unwrap());
    let deadline = Instant::now() + TEST_TIMEOUT;
    let waiting = loop {
        if let Some(status) =
            status(&server.ingress, "review-1").await.filter(|s| s.phase == RunPhase::Waiting)
        {
            break status;
        }
        assert!(Instant::now() < deadline, "the run did not ask for a review; log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(waiting.superstep, 3);
    let request = &waiting.pending_requests[0];
    assert_eq!(
        (request.executor_id.as_str(), request.request_type.as_str()),
        ("review", "demo.ReviewRequest")
    );
    assert!(request.response_schema.is_some());

    // Both the worker and restate-server go away and come back.
    worker.kill();
    server.restart(test).await;
    let _restarted = Worker::start(settings.clone(), None);

    let answer = ReviewAnswer { approved: true, note: "checked".into() };
    let respond = |id: String| {
        call(
            format!("{}/WeftWorkflow/review-1/respond", server.ingress),
            json!({ "request_id": id, "answer": answer.clone() }),
        )
    };
    let answered = respond(request.request_id.clone()).await;
    assert!(answered.status().is_success(), "{}", answered.text().await.unwrap());
    let unknown = respond("no-such-request".into()).await;
    assert_eq!(unknown.status().as_u16(), 404, "{}", unknown.text().await.unwrap());

    let attached = client()
        .get(format!("{}/restate/workflow/WeftWorkflow/review-1/attach", server.ingress))
        .send()
        .await
        .unwrap();
    let code = attached.status();
    let body = attached.text().await.unwrap();
    assert!(code.is_success(), "the run failed ({code}): {body}\nrestate log:\n{}", server.log());
    let reply: WorkflowReply = serde_json::from_str(&body).unwrap();
    let report: Report = serde_json::from_value(reply.outputs[0].value.clone()).unwrap();
    assert_eq!(
        report,
        Report {
            topic: "the Louvre".into(),
            findings: vec!["a fact about the Louvre".into(), "found: the Louvre".into()],
            review: Some(answer.clone()),
        }
    );
    // Nothing before the question ran again; `review` ran twice: the question and the answer.
    assert_eq!(counts(&counts_dir), [1, 1, 1, 0, 2]);
    let keys = std::fs::read_to_string(counts_dir.join(executor_count_file("review"))).unwrap();
    assert!(keys.lines().nth(1).is_some_and(|key| key.ends_with("/superstep#4:review")), "{keys}");
    let again = respond(request.request_id.clone()).await;
    assert!(!again.status().is_success(), "an answered request takes no second answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn a_poison_executor_stops_after_its_retries_with_a_typed_error() {
    let server = RestateServer::start("workflow poison executor").await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 0, 3);
    let counts_dir = settings.counts.clone();
    let _worker = Worker::start(settings, Some(&server.admin));
    let job = Job { topic: "poison ivy".into(), review: false };
    let response = tokio::time::timeout(
        TEST_TIMEOUT,
        call(format!("{}/WeftWorkflow/poison-1/run", server.ingress), json!(job)),
    )
    .await
    .expect("the poison run did not stop");
    let code = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(!code.is_success(), "the run must fail: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("the workflow run poison-1 failed"), "{body}");
    assert!(message.contains("executor 'poison' failed in superstep 2"), "{body}");
    assert!(
        message.contains("durable step superstep#2:poison failed"),
        "the typed error names the step: {body}"
    );
    assert!(message.contains("the poison executor always fails"), "and the cause: {body}");
    assert_eq!(counts(&counts_dir), [1, 1, 1, 3, 0], "three attempts of poison; nothing else repeated");
    let failed = status(&server.ingress, "poison-1").await.unwrap();
    assert_eq!(failed.phase, RunPhase::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs restate-server: scripts/test installs it (scripts/peers/restate.sh)"]
async fn requests_for_one_workflow_key_start_one_run() {
    let server = RestateServer::start("workflow one run per key").await;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 300, 5);
    let counts_dir = settings.counts.clone();
    let _worker = Worker::start(settings, Some(&server.admin));
    let job = json!(Job { topic: "the Alps".into(), review: false });
    let url = format!("{}/WeftWorkflow/once-1/run", server.ingress);
    // Two `run` requests for one key at once: one run; the other request is refused (409).
    let (first, second) = tokio::join!(call(url.clone(), job.clone()), call(url.clone(), job.clone()));
    let mut replies = Vec::new();
    let mut refused = 0;
    for response in [first, second] {
        let code = response.status();
        let body = response.text().await.unwrap();
        match code.as_u16() {
            200 => replies.push(serde_json::from_str::<WorkflowReply>(&body).unwrap()),
            409 => refused += 1,
            _ => panic!("({code}) {body}"),
        }
    }
    assert_eq!((replies.len(), refused), (1, 1), "one run, one refusal");
    // The workflow key is the idempotency key: Restate refuses an idempotency-key header.
    let keyed = client().post(&url).header("idempotency-key", "order-7").json(&job).send().await.unwrap();
    assert_eq!(keyed.status().as_u16(), 400, "{}", keyed.text().await.unwrap());
    // Another `run` for the key starts nothing: Restate refuses it; attaching gives the reply.
    let again = call(url.clone(), job.clone()).await;
    assert_eq!(again.status().as_u16(), 409, "{}", again.text().await.unwrap());
    let attached: WorkflowReply = client()
        .get(format!("{}/restate/workflow/WeftWorkflow/once-1/attach", server.ingress))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(attached, replies[0]);
    assert_eq!(counts(&counts_dir), [1, 1, 1, 0, 1], "one run");
}
