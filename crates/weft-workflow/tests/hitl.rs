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
