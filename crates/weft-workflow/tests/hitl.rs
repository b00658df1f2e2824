#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Human in the loop: an executor asks, the run pauses, the caller answers (also after a restart).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use weft_workflow::{
    AnyMessage, BoxError, CheckpointStore, Executor, FileCheckpointStore, FnExecutor,
    InMemoryCheckpointStore, PendingRequest, RequestResponse, RunStatus, Workflow, WorkflowBuilder,
    WorkflowContext, WorkflowError,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Approval {
    amount: i64,
}

/// Pays small amounts at once; asks a human about large ones.
struct Approver;

#[async_trait]
impl Executor for Approver {
    type Input = i64;
    type Output = i64;

    fn id(&self) -> &str {
        "approver"
    }

    async fn handle(&self, amount: i64, ctx: &WorkflowContext<i64>) -> Result<(), BoxError> {
        if amount > 100 {
            ctx.request_info::<Approval, bool>(Approval { amount })?;
        } else {
            ctx.send_message(amount);
        }
        Ok(())
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<i64>,
    ) -> Result<(), BoxError> {
        let ask: Approval = request.data_as()?;
        let approved =
            response.take::<bool>().map_err(|m| format!("expected bool, got {}", m.type_name()))?;
        if approved {
            ctx.send_message(ask.amount);
        } else {
            ctx.yield_output(format!("rejected {}", ask.amount));
        }
        Ok(())
    }
}

fn workflow(store: Arc<dyn CheckpointStore>) -> Workflow {
    WorkflowBuilder::new()
        .start_with(Approver)
        .add_executor(FnExecutor::new("pay", |amount: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("paid {amount}"));
            Ok(())
        }))
        .add_edge("approver", "pay")
        .with_checkpoint_store(store)
        .build()
        .unwrap()
}

#[tokio::test]
async fn small_amounts_need_no_answer() {
    let result = workflow(Arc::new(InMemoryCheckpointStore::new())).run(5_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::Idle);
    assert_eq!(result.outputs_as::<String>(), vec!["paid 5"]);
    assert!(result.pending_requests().is_empty());
}

#[tokio::test]
async fn the_run_pauses_and_continues_with_the_answer() {
    let workflow = workflow(Arc::new(InMemoryCheckpointStore::new()));
    let paused = workflow.run(500_i64).await.unwrap();
    assert_eq!(paused.status, RunStatus::IdleWithPendingRequests);
    assert!(paused.outputs.is_empty());
    let requests = paused.pending_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].executor_id, "approver");
    assert_eq!(requests[0].data_as::<Approval>().unwrap(), Approval { amount: 500 });
    let checkpoint = paused.last_checkpoint_id().unwrap();

    // Resuming without an answer pauses again on the same request.
    let still = workflow.resume(checkpoint).await.unwrap();
    assert_eq!(still.status, RunStatus::IdleWithPendingRequests);
    assert_eq!(still.pending_requests(), requests);

    // Wrong answers are refused without running anything.
    let wrong_type = workflow
        .send_responses(checkpoint, vec![RequestResponse::new(&requests[0].request_id, "yes".to_string())]);
    assert!(matches!(wrong_type.await.unwrap_err(), WorkflowError::InputType { .. }));
    let unknown = workflow.send_responses(checkpoint, vec![RequestResponse::new("nope", true)]).await;
    assert!(unknown.is_err());

    let approved = workflow
        .send_responses(checkpoint, vec![RequestResponse::new(&requests[0].request_id, true)])
        .await
        .unwrap();
    assert_eq!(approved.status, RunStatus::Idle);
    assert_eq!(approved.outputs_as::<String>(), vec!["paid 500"]);
    assert_eq!(approved.run_id, paused.run_id);

    // The same paused checkpoint can be answered differently.
    let rejected = workflow
        .send_responses(checkpoint, vec![RequestResponse::new(&requests[0].request_id, false)])
        .await
        .unwrap();
    assert_eq!(rejected.outputs_as::<String>(), vec!["rejected 500"]);
}

#[tokio::test]
async fn the_answer_can_come_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (checkpoint, request_id) = {
        let workflow = workflow(Arc::new(FileCheckpointStore::new(dir.path())));
        let paused = workflow.run(250_i64).await.unwrap();
        assert_eq!(paused.status, RunStatus::IdleWithPendingRequests);
        (paused.last_checkpoint_id().unwrap().to_string(), paused.pending_requests()[0].request_id.clone())
    };
    let store = FileCheckpointStore::new(dir.path());
    assert_eq!(store.load(&checkpoint).await.unwrap().pending_requests[0].request_id, request_id);
    let restarted = workflow(Arc::new(store));
    let result =
        restarted.send_responses(&checkpoint, vec![RequestResponse::new(request_id, true)]).await.unwrap();
    assert_eq!(result.status, RunStatus::Idle);
    assert_eq!(result.outputs_as::<String>(), vec!["paid 250"]);
}

/// An outer workflow that sends each amount to a sub-workflow holding the approver.
fn outer_with_sub_workflow(store: Arc<dyn CheckpointStore>) -> Workflow {
    let inner = WorkflowBuilder::new()
        .start_with(Approver)
        .add_executor(FnExecutor::new("pay", |amount: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("paid {amount}"));
            Ok(())
        }))
        .add_edge("approver", "pay")
        .build()
        .unwrap();
    WorkflowBuilder::new()
        .start_with(FnExecutor::new("amounts", |amounts: Vec<i64>, ctx: WorkflowContext<i64>| async move {
            for amount in amounts {
                ctx.send_message(amount);
            }
            Ok(())
        }))
        .add_executor(
            weft_workflow::SubWorkflow::<i64, String>::new("payments", inner).unwrap().yield_outputs(true),
        )
        .add_edge("amounts", "payments")
        .with_checkpoint_store(store)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_sub_workflow_forwards_its_requests_and_continues_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn CheckpointStore> = Arc::new(FileCheckpointStore::new(dir.path()));
    let first = outer_with_sub_workflow(store.clone()).run(vec![50_i64, 150, 500]).await.unwrap();
    assert_eq!(first.status, RunStatus::IdleWithPendingRequests, "{:?}", first.error());
    assert_eq!(first.outputs_as::<String>(), vec!["paid 50"]);
    let requests = first.pending_requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.executor_id == "payments"), "asked by the sub-workflow executor");
    let amounts: Vec<i64> = requests.iter().map(|r| r.data_as::<Approval>().unwrap().amount).collect();
    assert_eq!(amounts, vec![150, 500]);

    // A new process: a new workflow object on the same files. Answer one request.
    let restarted = outer_with_sub_workflow(store.clone());
    let second = restarted
        .send_responses(
            first.last_checkpoint_id().unwrap(),
            vec![RequestResponse::new(&requests[0].request_id, true)],
        )
        .await
        .unwrap();
    assert_eq!(second.status, RunStatus::IdleWithPendingRequests, "{:?}", second.error());
    assert_eq!(second.outputs_as::<String>(), vec!["paid 150"]);
    let left = second.pending_requests();
    assert_eq!(left.len(), 1, "the other request is still pending, and not asked twice");
    assert_eq!(left[0].request_id, requests[1].request_id);

    let third = restarted
        .send_responses(
            second.last_checkpoint_id().unwrap(),
            vec![RequestResponse::new(&left[0].request_id, false)],
        )
        .await
        .unwrap();
    assert_eq!(third.status, RunStatus::Idle, "{:?}", third.error());
    assert_eq!(third.outputs_as::<String>(), vec!["rejected 500"]);
    let last = store.load(third.last_checkpoint_id().unwrap()).await.unwrap();
    assert!(last.shared_state.is_empty(), "no paused inner run is kept: {:?}", last.shared_state.keys());
}

#[tokio::test]
async fn a_sub_workflow_takes_several_answers_in_one_superstep() {
    let store: Arc<dyn CheckpointStore> = Arc::new(InMemoryCheckpointStore::new());
    let workflow = outer_with_sub_workflow(store);
    let first = workflow.run(vec![200_i64, 300]).await.unwrap();
    let answers = first
        .pending_requests()
        .iter()
        .map(|r| RequestResponse::new(&r.request_id, true))
        .collect::<Vec<_>>();
    assert_eq!(answers.len(), 2);
    let second = workflow.send_responses(first.last_checkpoint_id().unwrap(), answers).await.unwrap();
    assert_eq!(second.status, RunStatus::Idle, "{:?}", second.error());
    let mut paid = second.outputs_as::<String>();
    paid.sort();
    assert_eq!(paid, vec!["paid 200", "paid 300"]);
}
