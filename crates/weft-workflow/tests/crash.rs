#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(not(all(feature = "sqlite", unix)), allow(missing_docs))]
#![cfg(all(feature = "sqlite", unix))]
//! Crashes and restarts with the SQLite store, across real processes.
//!
//! The tests run this test binary again as a child (`std::env::current_exe()`, the test
//! `child` selected with `--exact`, the mode in `WEFT_CRASH_CHILD`). The child prints lines
//! the parent reads: `STEP n` when superstep n starts, `OUTPUT n text` for each output,
//! `CHECKPOINT n` when the checkpoint after superstep n is committed, `HANG` before it blocks.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_workflow::{
    AnyMessage, BoxError, CheckpointStore, Executor, FnExecutor, PendingRequest, RequestResponse, RunStatus,
    SqliteCheckpointStore, Workflow, WorkflowBuilder, WorkflowContext, WorkflowEvent,
};

const MODE: &str = "WEFT_CRASH_CHILD";
const DB: &str = "WEFT_CRASH_DB";
const HANG: &str = "WEFT_CRASH_HANG";
const ANSWER: &str = "WEFT_CRASH_ANSWER";

/// Ticks five times through a self-edge; its tick count is checkpointed state. With
/// `WEFT_CRASH_HANG` set it blocks on its third tick (superstep 4), after the checkpoint of
/// superstep 3 is committed.
struct Ticker {
    count: Mutex<i64>,
}

#[async_trait]
impl Executor for Ticker {
    type Input = i64;
    type Output = i64;

    fn id(&self) -> &str {
        "ticker"
    }

    async fn handle(&self, x: i64, ctx: &WorkflowContext<i64>) -> Result<(), BoxError> {
        let count = {
            let mut count = self.count.lock().unwrap();
            *count += 1;
            *count
        };
        if count == 3 && std::env::var_os(HANG).is_some() {
            // Let the events before this point reach the parent first.
            tokio::time::sleep(Duration::from_millis(200)).await;
            println!("HANG");
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        ctx.yield_output(format!("tick {count} of {x}"));
        if count < 5 {
            ctx.send_message_to("ticker", x + 1);
        } else {
            ctx.send_message_to("join", x);
        }
        Ok(())
    }

    fn snapshot(&self) -> Result<Option<Value>, BoxError> {
        Ok(Some(json!(*self.count.lock().unwrap())))
    }

    fn restore(&self, state: Value) -> Result<(), BoxError> {
        *self.count.lock().unwrap() = serde_json::from_value(state)?;
        Ok(())
    }
}

/// start -> [ticker, side]; ticker -> ticker (x5); [ticker, side] -> join. side's message
/// waits at the join from superstep 2 to 7, across the crash; start's shared state is read by
/// the join.
fn ticking(store: Arc<dyn CheckpointStore>) -> Workflow {
    WorkflowBuilder::new()
        .name("ticking")
        .start_with(FnExecutor::new("start", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.set_state("base", &x)?;
            ctx.yield_output(format!("start {x}"));
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(Ticker { count: Mutex::new(0) })
        .add_executor(FnExecutor::new("side", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.yield_output(format!("side {x}"));
            ctx.send_message(x * 10);
            Ok(())
        }))
        .add_executor(FnExecutor::new("join", |xs: Vec<i64>, ctx: WorkflowContext<()>| async move {
            let base: i64 = ctx.get_state("base")?.unwrap_or(-1);
            ctx.yield_output(format!("join {base} {xs:?}"));
            Ok(())
        }))
        .add_fan_out("start", ["ticker", "side"])
        .add_edge("ticker", "ticker")
        .add_fan_in(["ticker", "side"], "join")
        .with_checkpoint_store(store)
        .build()
        .unwrap()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Approval {
    amount: i64,
}

struct Approver;

#[async_trait]
impl Executor for Approver {
    type Input = i64;
    type Output = ();

    fn id(&self) -> &str {
        "approver"
    }

    async fn handle(&self, amount: i64, ctx: &WorkflowContext<()>) -> Result<(), BoxError> {
        ctx.request_info::<Approval, bool>(Approval { amount })?;
        Ok(())
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<()>,
    ) -> Result<(), BoxError> {
        let ask: Approval = request.data_as()?;
        let approved = response.take::<bool>().map_err(|m| format!("not a bool: {}", m.type_name()))?;
        ctx.yield_output(if approved { format!("paid {}", ask.amount) } else { "rejected".into() });
        Ok(())
    }
}

fn approval(store: Arc<dyn CheckpointStore>) -> Workflow {
    WorkflowBuilder::new().start_with(Approver).with_checkpoint_store(store).build().unwrap()
}

/// Prints a streamed run's events as the parent reads them.
async fn print_events(mut events: futures::stream::BoxStream<'static, WorkflowEvent>) {
    let mut step = 0;
    while let Some(event) = events.next().await {
        match event {
            WorkflowEvent::SuperstepStarted { superstep } => {
                step = superstep;
                println!("STEP {superstep}");
            }
            WorkflowEvent::Output(output) => {
                println!("OUTPUT {step} {}", output.get::<String>().cloned().unwrap_or_default());
            }
            WorkflowEvent::CheckpointSaved { checkpoint_id, superstep } => {
                println!("CHECKPOINT {superstep} {checkpoint_id}");
            }
            WorkflowEvent::RequestInfo(request) => println!("REQUEST {}", request.request_id),
            WorkflowEvent::Status { status } if status != RunStatus::InProgress => {
                println!("STATUS {status:?}");
            }
            WorkflowEvent::Failed { error } => println!("FAILED {error}"),
            _ => {}
        }
    }
}

/// The child's side: does nothing unless started by a parent test.
#[tokio::test]
async fn child() {
    let Ok(mode) = std::env::var(MODE) else { return };
    let db = std::env::var(DB).unwrap();
    let store: Arc<dyn CheckpointStore> = Arc::new(SqliteCheckpointStore::open(&db).await.unwrap());
    match mode.as_str() {
        "run" => print_events(ticking(store).run_stream(4_i64)).await,
        "resume" => {
            let sqlite = SqliteCheckpointStore::open(&db).await.unwrap();
            let runs = sqlite.runs().await.unwrap();
            assert_eq!(runs.len(), 1);
            let last = sqlite.list(&runs[0]).await.unwrap().pop().unwrap();
            print_events(ticking(store).resume_stream(&last.checkpoint_id)).await;
        }
        "ask" => print_events(approval(store).run_stream(500_i64)).await,
        "answer" => {
            let answer = std::env::var(ANSWER).unwrap();
            let (checkpoint, request) = answer.split_once(' ').unwrap();
            let responses = vec![RequestResponse::new(request, true)];
            print_events(approval(store).send_responses_stream(checkpoint, responses)).await;
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn(mode: &str, db: &std::path::Path, env: &[(&str, &str)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1", "--quiet"])
        .env(MODE, mode)
        .env(DB, db)
        .env_remove(HANG)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}

/// The child's protocol lines (libtest's own lines dropped).
fn protocol(line: &str) -> bool {
    ["STEP ", "OUTPUT ", "CHECKPOINT ", "HANG", "REQUEST ", "STATUS ", "FAILED "]
        .iter()
        .any(|p| line.starts_with(p))
}

/// Reads a child's lines to the end, or until `stop_at` (then the child is killed with SIGKILL).
fn read_lines(mut child: Child, stop_at: Option<&str>) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if !protocol(&line) {
            continue;
        }
        let stop = stop_at.is_some_and(|s| line == s);
        lines.push(line);
        if stop {
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    if stop_at.is_none() {
        assert!(status.success(), "child failed: {status:?}\n{lines:#?}");
    }
    lines
}

/// The outputs of supersteps whose checkpoint was committed, in order.
fn committed_outputs(lines: &[String]) -> Vec<String> {
    let committed: u64 = lines
        .iter()
        .filter_map(|l| l.strip_prefix("CHECKPOINT "))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .max()
        .unwrap_or(0);
    lines
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("OUTPUT ")?;
            let (step, text) = rest.split_once(' ')?;
            (step.parse::<u64>().ok()? <= committed).then(|| text.to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_run_killed_mid_superstep_resumes_in_a_new_process() {
    let dir = tempfile::tempdir().unwrap();

    // Uninterrupted, in this process.
    let reference = ticking(Arc::new(SqliteCheckpointStore::open(dir.path().join("ref.db")).await.unwrap()));
    let expected = reference.run(4_i64).await.unwrap().outputs_as::<String>();
    assert_eq!(expected.len(), 8, "{expected:?}");
    assert_eq!(expected.last().unwrap(), "join 4 [8, 40]");

    // Killed with SIGKILL while superstep 4 runs.
    let db = dir.path().join("crash.db");
    let killed = read_lines(spawn("run", &db, &[(HANG, "1")]), Some("HANG"));
    assert!(killed.contains(&"STEP 4".to_string()), "{killed:#?}");
    assert!(killed.iter().any(|l| l.starts_with("CHECKPOINT 3 ")), "{killed:#?}");
    assert!(!killed.iter().any(|l| l.starts_with("STATUS")), "{killed:#?}");
    let before = committed_outputs(&killed);

    // A fresh process resumes from the last committed checkpoint in the file.
    let resumed = read_lines(spawn("resume", &db, &[]), None);
    assert_eq!(resumed.iter().find(|l| l.starts_with("STEP ")).unwrap(), "STEP 4", "{resumed:#?}");
    assert!(resumed.contains(&"STATUS Idle".to_string()), "{resumed:#?}");
    let after = committed_outputs(&resumed);

    let combined: Vec<String> = before.into_iter().chain(after).collect();
    assert_eq!(combined, expected, "nothing lost, nothing duplicated");
}

#[tokio::test]
async fn a_request_is_answered_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hitl.db");
    let asked = read_lines(spawn("ask", &db, &[]), None);
    assert!(asked.contains(&"STATUS IdleWithPendingRequests".to_string()), "{asked:#?}");
    let request = asked.iter().find_map(|l| l.strip_prefix("REQUEST ")).unwrap();
    let checkpoint = asked.iter().rev().find_map(|l| l.strip_prefix("CHECKPOINT ")).unwrap();
    let checkpoint = checkpoint.split_once(' ').unwrap().1;

    let answer = format!("{checkpoint} {request}");
    let answered = read_lines(spawn("answer", &db, &[(ANSWER, &answer)]), None);
    assert!(answered.contains(&"STATUS Idle".to_string()), "{answered:#?}");
    assert_eq!(committed_outputs(&answered), vec!["paid 500".to_string()]);
}
