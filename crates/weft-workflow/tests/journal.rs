//! Journaled runs (the hook durable engines use) against an in-memory journal: the same outputs
//! as a local run, a replay runs no recorded invocation again, a crash mid-superstep repeats only
//! the invocation it interrupted, and a journal that can answer requests keeps the run going.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use weft_workflow::journal::InvocationWork;
use weft_workflow::{
    AnyMessage, BoxError, Checkpoint, Executor, FnExecutor, InvocationEffects, InvocationJournal,
    InvocationKey, PendingRequest, RequestResponse, RunStatus, Workflow, WorkflowBuilder, WorkflowContext,
};

/// Records effects by step name; replays them; fails (once) the invocation named in `crash`.
#[derive(Default)]
struct MemoryJournal {
    recorded: Mutex<HashMap<String, InvocationEffects>>,
    crash: Mutex<Option<String>>,
    answer: Option<Value>,
    checkpoints: Mutex<Vec<Checkpoint>>,
}

#[async_trait]
impl InvocationJournal for MemoryJournal {
    async fn invoke(&self, key: &InvocationKey, work: InvocationWork) -> Result<InvocationEffects, BoxError> {
        let name = key.step_name();
        if let Some(effects) = self.recorded.lock().unwrap().get(&name) {
            return Ok(effects.clone());
        }
        let effects = work.await?;
        if self.crash.lock().unwrap().as_deref() == Some(name.as_str()) {
            self.crash.lock().unwrap().take();
            return Err("the process died before the result was journaled".into());
        }
        self.recorded.lock().unwrap().insert(name, effects.clone());
        Ok(effects)
    }

    async fn answers(&self, requests: &[PendingRequest]) -> Result<Option<Vec<RequestResponse>>, BoxError> {
        Ok(self.answer.as_ref().map(|answer| {
            requests.iter().map(|r| RequestResponse::json(r.request_id.clone(), answer.clone())).collect()
        }))
    }

    async fn superstep_completed(&self, checkpoint: &Checkpoint) -> Result<(), BoxError> {
        self.checkpoints.lock().unwrap().push(checkpoint.clone());
        Ok(())
    }
}

type Counts = Arc<Mutex<HashMap<String, usize>>>;

fn counted(counts: &Counts, id: &str) {
    *counts.lock().unwrap().entry(id.to_string()).or_default() += 1;
}

/// split -> [upper, count] -> join, `join` writing state and yielding the joined text.
fn workflow(counts: &Counts) -> Workflow {
    let c = counts.clone();
    let split = FnExecutor::new("split", move |text: String, ctx: WorkflowContext<String>| {
        counted(&c, "split");
        async move {
            ctx.set_state("input", &text)?;
            ctx.send_message(text);
            Ok(())
        }
    });
    let c = counts.clone();
    let upper = FnExecutor::new("upper", move |text: String, ctx: WorkflowContext<String>| {
        counted(&c, "upper");
        async move {
            ctx.send_message(text.to_uppercase());
            Ok(())
        }
    });
    let c = counts.clone();
    let count = FnExecutor::new("count", move |text: String, ctx: WorkflowContext<String>| {
        counted(&c, "count");
        async move {
            ctx.send_message(text.len().to_string());
            Ok(())
        }
    });
    let c = counts.clone();
    let join = FnExecutor::new("join", move |parts: Vec<String>, ctx: WorkflowContext<()>| {
        counted(&c, "join");
        async move {
            let input: String = ctx.get_state("input")?.unwrap_or_default();
            ctx.yield_output(format!("{input}: {}", parts.join(" ")));
            Ok(())
        }
    });
    WorkflowBuilder::new()
        .start_with(split)
        .add_executor(upper)
        .add_executor(count)
        .add_executor(join)
        .add_fan_out("split", ["upper", "count"])
        .add_fan_in(["upper", "count"], "join")
        .build()
        .unwrap()
}

fn outputs_json(workflow: &Workflow, result: &weft_workflow::WorkflowRunResult) -> Vec<(String, Value)> {
    result.outputs.iter().map(|o| (workflow.message_name(&o.value), o.value.to_json().unwrap())).collect()
}

#[tokio::test]
async fn a_journaled_run_gives_the_local_outputs_and_a_replay_runs_nothing_again() {
    let counts = Counts::default();
    let flow = workflow(&counts);
    let local = flow.run("weft".to_string()).await.unwrap();
    assert_eq!(local.outputs_as::<String>(), vec!["weft: WEFT 4".to_string()]);
    counts.lock().unwrap().clear();

    let journal = MemoryJournal::default();
    let first = flow.run_journaled(json!("weft"), "run-1", &journal).await.unwrap();
    assert_eq!(first.status, RunStatus::Idle);
    assert_eq!(first.run_id, "run-1");
    assert_eq!(outputs_json(&flow, &first), outputs_json(&flow, &local));
    assert_eq!(first.outputs_as::<String>(), local.outputs_as::<String>(), "outputs keep their type");
    for id in ["split", "upper", "count", "join"] {
        assert_eq!(counts.lock().unwrap()[id], 1, "{id} ran once");
    }
    let checkpoints: Vec<String> =
        journal.checkpoints.lock().unwrap().iter().map(|c| c.checkpoint_id.clone()).collect();
    assert_eq!(checkpoints, ["run-1-0", "run-1-1", "run-1-2", "run-1-3"]);

    let replay = flow.run_journaled(json!("weft"), "run-1", &journal).await.unwrap();
    assert_eq!(outputs_json(&flow, &replay), outputs_json(&flow, &local));
    for id in ["split", "upper", "count", "join"] {
        assert_eq!(counts.lock().unwrap()[id], 1, "{id} was not run again on replay");
    }
}

#[tokio::test]
async fn a_crash_mid_superstep_repeats_only_the_interrupted_invocation() {
    let counts = Counts::default();
    let flow = workflow(&counts);
    let journal = MemoryJournal { crash: Mutex::new(Some("superstep#2:count".into())), ..Default::default() };
    let crashed = flow.run_journaled(json!("weft"), "run-2", &journal).await.unwrap();
    assert_eq!(crashed.status, RunStatus::Failed);
    assert!(crashed.error().unwrap().to_string().contains("executor 'count' failed in superstep 2"));
    let resumed = flow.run_journaled(json!("weft"), "run-2", &journal).await.unwrap();
    assert_eq!(resumed.status, RunStatus::Idle);
    assert_eq!(resumed.outputs_as::<String>(), vec!["weft: WEFT 4".to_string()]);
    let counts = counts.lock().unwrap();
    assert_eq!((counts["split"], counts["upper"], counts["count"], counts["join"]), (1, 1, 2, 1));
}

#[tokio::test]
async fn the_input_must_parse_as_the_start_executors_type() {
    let flow = workflow(&Counts::default());
    let error =
        flow.run_journaled(json!({"not": "text"}), "run-3", &MemoryJournal::default()).await.unwrap_err();
    assert!(error.to_string().contains("JSON that does not parse"), "{error}");
}

/// Asks for a number and yields the answer plus one; keeps how many answers it saw.
struct Asker {
    seen: AtomicUsize,
}

#[async_trait]
impl Executor for Asker {
    type Input = String;
    type Output = ();

    fn id(&self) -> &str {
        "asker"
    }

    async fn handle(&self, question: String, ctx: &WorkflowContext<()>) -> Result<(), BoxError> {
        ctx.request_info::<String, u32>(question)?;
        Ok(())
    }

    async fn handle_response(
        &self,
        _request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<()>,
    ) -> Result<(), BoxError> {
        let number = response.take::<u32>().map_err(|_| "not a number")?;
        self.seen.fetch_add(1, Ordering::SeqCst);
        ctx.yield_output(number + 1);
        Ok(())
    }

    fn snapshot(&self) -> Result<Option<Value>, BoxError> {
        Ok(Some(json!(self.seen.load(Ordering::SeqCst))))
    }

    fn restore(&self, state: Value) -> Result<(), BoxError> {
        self.seen.store(serde_json::from_value(state)?, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_journal_that_answers_requests_keeps_the_run_going() {
    let flow = WorkflowBuilder::new().start_with(Asker { seen: AtomicUsize::new(0) }).build().unwrap();
    let waiting = flow.run_journaled(json!("how many?"), "run-4", &MemoryJournal::default()).await.unwrap();
    assert_eq!(waiting.status, RunStatus::IdleWithPendingRequests, "no answers: the run pauses");
    assert_eq!(waiting.pending_requests().len(), 1);

    let journal = MemoryJournal { answer: Some(json!(41)), ..Default::default() };
    let answered = flow.run_journaled(json!("how many?"), "run-5", &journal).await.unwrap();
    assert_eq!(answered.status, RunStatus::Idle);
    assert_eq!(answered.outputs_as::<u32>(), vec![42]);
    let first_id = journal.checkpoints.lock().unwrap()[1].pending_requests[0].request_id.clone();
    // On replay the request keeps its id (it is part of the recorded effects).
    let replay = flow.run_journaled(json!("how many?"), "run-5", &journal).await.unwrap();
    assert_eq!(replay.outputs_as::<u32>(), vec![42]);
    let checkpoints = journal.checkpoints.lock().unwrap();
    let replayed_id = checkpoints.iter().rev().find_map(|c| c.pending_requests.first()).unwrap();
    assert_eq!(replayed_id.request_id, first_id);
    assert_eq!(checkpoints.last().unwrap().executor_states["asker"], json!(1), "the snapshot was restored");
}
