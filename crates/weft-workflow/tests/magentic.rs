#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The magentic orchestration end to end on replayed models: planning, the progress ledger,
//! delegation, re-planning on stalls, the limits, and the human plan review.

mod common;

use std::sync::Arc;

use common::{added, authors};

use serde_json::json;
use weft_core::{Agent, ChatAgent, ChatResponse, Message, ReplayClient, ResponseFormat, Role};
use weft_workflow::{
    BuildError, InMemoryCheckpointStore, MagenticBuilder, MagenticEvent, MagenticFinish, PlanReview,
    PlanReviewRequest, RequestResponse, RunStatus, Workflow, WorkflowEvent, WorkflowRunResult,
};

const MANAGER: &str = "magentic_manager";

fn replayed(
    name: &str,
    description: &str,
    responses: Vec<ChatResponse>,
) -> (Arc<dyn Agent>, Arc<ReplayClient>) {
    let client = Arc::new(ReplayClient::new(responses));
    let agent = ChatAgent::builder(client.clone()).name(name).description(description).build();
    (Arc::new(agent), client)
}

fn text(t: &str) -> ChatResponse {
    ChatResponse::text(t)
}

/// A progress ledger as the manager's model would answer it.
fn ledger(satisfied: bool, progress: bool, next: &str, instruction: &str) -> ChatResponse {
    let entry = |answer: serde_json::Value| json!({"reason": "because", "answer": answer});
    ChatResponse::text(
        json!({
            "is_request_satisfied": entry(json!(satisfied)),
            "is_in_loop": entry(json!(false)),
            "is_progress_being_made": entry(json!(progress)),
            "next_speaker": entry(json!(next)),
            "instruction_or_question": entry(json!(instruction)),
        })
        .to_string(),
    )
}

fn events(result: &WorkflowRunResult) -> Vec<MagenticEvent> {
    result
        .events
        .iter()
        .filter_map(|e| match e {
            WorkflowEvent::Custom { event, .. } => event.get::<MagenticEvent>().cloned(),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_manager_plans_delegates_and_answers() {
    let (manager, manager_client) = replayed(
        "manager",
        "",
        vec![
            text("facts: the launch is on Friday"),
            text("1. researcher finds the audience 2. writer drafts"),
            ledger(false, true, "researcher", "Who is the audience?"),
            ledger(false, true, "writer", "Draft it for developers."),
            ledger(true, true, "writer", "-"),
            text("Weft 1.0 ships Friday, for developers."),
        ],
    );
    let (researcher, researcher_client) = replayed("researcher", "finds facts", vec![text("developers")]);
    let (writer, _) = replayed("writer", "writes copy", vec![text("draft: Weft 1.0, Friday")]);
    let workflow =
        MagenticBuilder::new().manager(manager).participants([researcher, writer]).build().unwrap();
    let result = workflow.run(vec![Message::user("Announce the launch")]).await.unwrap();

    let messages = added(&result);
    assert_eq!(authors(&messages), vec![MANAGER, MANAGER, "researcher", MANAGER, "writer", MANAGER]);
    assert!(
        messages[0].text().contains("1. researcher finds the audience"),
        "the task ledger holds the plan"
    );
    assert!(messages[0].text().contains("- researcher: finds facts"), "and the team");
    assert_eq!(messages[1].text(), "Who is the audience?");
    assert_eq!(messages[5].text(), "Weft 1.0 ships Friday, for developers.");
    assert_eq!(messages[5].role, Role::Assistant);

    // The researcher saw the task, the ledger and its instruction.
    let seen = &researcher_client.requests()[0].messages;
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].text(), "Who is the audience?");

    // The ledger is asked for with a strict schema naming the team.
    let requests = manager_client.requests();
    assert_eq!(requests.len(), 6, "facts, plan, three ledgers, the final answer");
    let Some(ResponseFormat::JsonSchema { schema, strict, .. }) = &requests[2].options.response_format else {
        panic!("the ledger request has no JSON schema")
    };
    assert!(strict);
    assert_eq!(
        schema["properties"]["next_speaker"]["properties"]["answer"]["enum"],
        json!(["researcher", "writer"])
    );
    assert!(requests[0].options.response_format.is_none());

    let events = events(&result);
    assert!(matches!(&events[0], MagenticEvent::Planned { reset: 0, plan } if plan.facts.contains("Friday")));
    let delegated: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            MagenticEvent::Delegated { to, .. } => Some(to.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(delegated, vec!["researcher", "writer"]);
    assert_eq!(events.last(), Some(&MagenticEvent::Finished { reason: MagenticFinish::Satisfied }));
}

#[tokio::test]
async fn stalls_make_the_manager_replan_then_give_up() {
    let (manager, manager_client) = replayed(
        "manager",
        "",
        vec![
            text("facts v1"),
            text("plan v1"),
            ledger(false, false, "solver", "try A"), // stall 1: still delegates
            ledger(false, false, "solver", "try A again"), // stall 2 > 1: re-plan
            text("facts v2"),
            text("plan v2"),
            ledger(false, false, "solver", "try B"),       // stall 1
            ledger(false, false, "solver", "try B again"), // stall 2 > 1, no re-plans left
            text("Partial answer: A and B failed."),
        ],
    );
    let (solver, _) = replayed("solver", "", vec![text("A failed"), text("B failed")]);
    let workflow = MagenticBuilder::new()
        .manager(manager)
        .participant(solver)
        .max_stalls(1)
        .max_resets(1)
        .build()
        .unwrap();
    let result = workflow.run(vec![Message::user("solve it")]).await.unwrap();
    let messages = added(&result);
    assert_eq!(messages.last().unwrap().text(), "Partial answer: A and B failed.");
    // The second ledger message carries the new plan.
    let ledgers: Vec<&Message> = messages
        .iter()
        .filter(|m| m.author_name.as_deref() == Some(MANAGER) && m.text().contains("The plan:"))
        .collect();
    assert_eq!(ledgers.len(), 2);
    assert!(ledgers[1].text().contains("plan v2") && ledgers[1].text().contains("facts v2"));

    let events = events(&result);
    let plans: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            MagenticEvent::Planned { reset, .. } => Some(*reset),
            _ => None,
        })
        .collect();
    assert_eq!(plans, vec![0, 1]);
    assert_eq!(events.last(), Some(&MagenticEvent::Finished { reason: MagenticFinish::ResetLimit }));
    // The re-plan was asked with the old facts in the prompt.
    let requests = manager_client.requests();
    assert!(requests[4].messages.last().unwrap().text().contains("facts v1"));
    assert_eq!(manager_client.remaining(), 0);
}

#[tokio::test]
async fn the_round_limit_ends_with_an_answer() {
    let (manager, manager_client) = replayed(
        "manager",
        "",
        vec![text("facts"), text("plan"), ledger(false, true, "solver", "go"), text("What we have so far.")],
    );
    let (solver, _) = replayed("solver", "", vec![text("half done")]);
    let workflow = MagenticBuilder::new().manager(manager).participant(solver).max_rounds(1).build().unwrap();
    let result = workflow.run(vec![Message::user("a long task")]).await.unwrap();
    let messages = added(&result);
    assert_eq!(authors(&messages), vec![MANAGER, MANAGER, "solver", MANAGER]);
    assert_eq!(events(&result).last(), Some(&MagenticEvent::Finished { reason: MagenticFinish::RoundLimit }));
    assert_eq!(manager_client.remaining(), 0);
}

/// A reviewed magentic workflow on `store`, its manager replaying `responses`.
fn reviewed(
    store: Arc<InMemoryCheckpointStore>,
    responses: Vec<ChatResponse>,
) -> (Workflow, Arc<ReplayClient>) {
    let (manager, manager_client) = replayed("manager", "", responses);
    let (expert, _) = replayed("expert", "", vec![text("it is 42")]);
    let workflow = MagenticBuilder::new()
        .manager(manager)
        .participant(expert)
        .with_plan_review()
        .with_checkpoint_store(store)
        .build()
        .unwrap();
    (workflow, manager_client)
}

#[tokio::test]
async fn a_human_reviews_the_plan_across_checkpoints() {
    let store = Arc::new(InMemoryCheckpointStore::new());
    let (workflow, _) = reviewed(store.clone(), vec![text("facts"), text("plan: ask nobody")]);
    let first = workflow.run(vec![Message::user("the answer?")]).await.unwrap();
    assert_eq!(first.status, RunStatus::IdleWithPendingRequests);
    let request = first.pending_requests().remove(0);
    let review: PlanReviewRequest = request.data_as().unwrap();
    assert_eq!(
        (review.plan.plan.as_str(), review.revision, review.task.as_str()),
        ("plan: ask nobody", 0, "the answer?")
    );
    drop(workflow);

    // After a "restart" (new executors, only the checkpoint store kept), the reviewer asks for
    // a revision, answering with JSON as another process would: a new plan, reviewed again.
    let (workflow, manager_client) = reviewed(
        store,
        vec![
            text("facts"),
            text("plan: ask the expert"),
            ledger(false, true, "expert", "answer it"),
            ledger(true, true, "expert", "-"),
            text("42"),
        ],
    );
    let feedback = json!({"Revise": {"feedback": "ask the expert"}});
    let second = workflow
        .send_responses(
            first.last_checkpoint_id().unwrap(),
            vec![RequestResponse::json(&request.request_id, feedback)],
        )
        .await
        .unwrap();
    assert_eq!(second.status, RunStatus::IdleWithPendingRequests, "{:?}", second.error());
    let request = second.pending_requests().remove(0);
    let review: PlanReviewRequest = request.data_as().unwrap();
    assert_eq!((review.plan.plan.as_str(), review.revision), ("plan: ask the expert", 1));
    let plan_prompt = manager_client.requests()[1].messages.last().unwrap().text();
    assert!(plan_prompt.contains("ask the expert"), "the feedback reaches the planner: {plan_prompt}");

    let third = workflow
        .send_responses(
            second.last_checkpoint_id().unwrap(),
            vec![RequestResponse::new(&request.request_id, PlanReview::Approve)],
        )
        .await
        .unwrap();
    let messages = added(&third);
    assert_eq!(authors(&messages), vec![MANAGER, MANAGER, "expert", MANAGER]);
    assert!(messages[0].text().contains("plan: ask the expert"));
    assert_eq!(messages[3].text(), "42");
    assert_eq!(manager_client.remaining(), 0);
}

#[tokio::test]
async fn a_manager_picking_a_stranger_fails_the_run_by_name() {
    let (manager, _) =
        replayed("manager", "", vec![text("f"), text("p"), ledger(false, true, "nobody", "x")]);
    let (solver, _) = replayed("solver", "", vec![]);
    let workflow = MagenticBuilder::new().manager(manager).participant(solver).build().unwrap();
    let result = workflow.run(vec![Message::user("task")]).await.unwrap();
    assert_eq!(result.status, RunStatus::Failed);
    assert!(format!("{:?}", result.error().unwrap()).contains("'nobody'"));
}

#[tokio::test]
async fn build_checks_the_manager_and_the_names() {
    let (solver, _) = replayed("solver", "", vec![]);
    let no_manager = MagenticBuilder::new().participant(solver.clone()).build();
    assert!(
        matches!(no_manager, Err(BuildError::Orchestration { ref reason }) if reason.contains("manager"))
    );
    let (manager, _) = replayed("manager", "", vec![]);
    let (clash, _) = replayed(MANAGER, "", vec![]);
    let clashing = MagenticBuilder::new().manager(manager.clone()).participants([solver, clash]).build();
    assert!(matches!(clashing, Err(BuildError::DuplicateExecutor { .. })));
    assert!(matches!(MagenticBuilder::new().manager(manager).build(), Err(BuildError::Orchestration { .. })));
}
