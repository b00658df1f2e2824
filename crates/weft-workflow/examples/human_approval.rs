//! Human in the loop across a restart: an agent in a workflow wants to call a tool that needs
//! approval, so the run pauses and is saved; a later process loads it, gives the human's answer
//! and the run goes on from there.
//!
//! ```sh
//! cargo run -p weft-workflow --example human_approval -- ask          # pauses, saves, exits
//! cargo run -p weft-workflow --example human_approval -- answer yes   # a new process continues
//! ```
//!
//! `ask` runs the workflow on `Refund 25 euros for order 1234` (or the text after `ask`); the
//! refund agent asks to call `refund_order`, which needs approval, and the run stops with a
//! pending request, checkpointed as JSON files. The checkpoint's id is kept in a `waiting` file
//! next to them, as an application would keep it with the ticket it shows a human. `answer yes`
//! (or `no`) loads the checkpoint, shows the request again, and sends the answer: the tool runs
//! (or not) and the agent finishes its answer. `--dir PATH` picks the directory (default:
//! `weft-human-approval` in the temp directory). The agents run on the offline scripted model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use weft_core::{ApprovalMode, ChatAgent, FunctionTool, Message, ScriptedClient};
use weft_workflow::{
    AgentApprovalRequest, AgentExecutor, CheckpointStore, FileCheckpointStore, FnExecutor, RequestResponse,
    RunStatus, Workflow, WorkflowBuilder, WorkflowContext, WorkflowRunResult,
};

#[derive(Deserialize, JsonSchema)]
struct RefundArgs {
    /// The amount, in euros.
    amount: f64,
    /// The number of the order to refund.
    order_number: u32,
}

/// The refund agent, then a step that files its answer.
fn workflow(store: Arc<dyn CheckpointStore>) -> Result<Workflow, weft_workflow::BuildError> {
    let refund = FunctionTool::new("refund_order", "Refund an order", |args: RefundArgs| async move {
        Ok::<_, std::convert::Infallible>(format!(
            "refunded {:.2} EUR on order {}",
            args.amount, args.order_number
        ))
    })
    .with_approval(ApprovalMode::Always);
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).name("refunds").tool(refund).build();
    let file = FnExecutor::new("file", |conversation: Vec<Message>, ctx: WorkflowContext<()>| async move {
        let answer = conversation.last().map(Message::text).unwrap_or_default();
        ctx.yield_output(format!("filed: {answer}"));
        Ok(())
    });
    WorkflowBuilder::new()
        .name("refund_with_approval")
        .start_with(AgentExecutor::new(Arc::new(agent)))
        .add_executor(file)
        .add_edge("refunds", "file")
        .with_checkpoint_store(store)
        .build()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("human_approval: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = std::env::temp_dir().join("weft-human-approval");
    if let Some(at) = args.iter().position(|a| a == "--dir") {
        let value = args.get(at + 1).cloned().ok_or("--dir needs a path")?;
        dir = PathBuf::from(value);
        args.drain(at..at + 2);
    }
    let workflow = workflow(Arc::new(FileCheckpointStore::new(&dir))).map_err(|e| e.to_string())?;
    let waiting = dir.join("waiting");
    println!("process {}, checkpoints in {}", std::process::id(), dir.display());
    match args.first().map(String::as_str) {
        Some("ask") => {
            let text =
                if args.len() > 1 { args[1..].join(" ") } else { "Refund 25 euros for order 1234".into() };
            println!("user: {text}");
            let result = workflow.run(vec![Message::user(text)]).await.map_err(|e| e.to_string())?;
            report(&result, &waiting).await
        }
        Some("answer") => {
            let approve = match args.get(1).map(String::as_str) {
                Some("yes") => true,
                Some("no") => false,
                _ => return Err("answer yes or answer no".into()),
            };
            answer(&workflow, &waiting, approve).await
        }
        _ => Err("expected `ask [TEXT]` or `answer yes|no`".into()),
    }
}

/// Shows how a run ended; when it waits for a human, keeps its checkpoint id in `waiting`.
async fn report(result: &WorkflowRunResult, waiting: &Path) -> Result<(), String> {
    match result.status {
        RunStatus::IdleWithPendingRequests => {
            for request in result.pending_requests() {
                show(&request.data_as::<AgentApprovalRequest>().map_err(|e| e.to_string())?);
            }
            let checkpoint = result.last_checkpoint_id().ok_or("the paused run saved no checkpoint")?;
            tokio::fs::write(waiting, checkpoint).await.map_err(|e| format!("{}: {e}", waiting.display()))?;
            println!("paused and saved as checkpoint {checkpoint}; answer with `answer yes` or `answer no`");
            Ok(())
        }
        RunStatus::Failed => Err(format!("the run failed: {:?}", result.error().map(ToString::to_string))),
        _ => {
            for output in result.outputs_as::<String>() {
                println!("{output}");
            }
            Ok(())
        }
    }
}

fn show(request: &AgentApprovalRequest) {
    for call in &request.requests {
        println!("{} asks to call {} {}: approve?", request.agent, call.call.name, call.call.arguments);
    }
}

/// Loads the waiting run, answers its requests, and lets it finish.
async fn answer(workflow: &Workflow, waiting: &Path, approve: bool) -> Result<(), String> {
    let checkpoint_id = tokio::fs::read_to_string(waiting).await.map_err(|e| {
        format!("no run waits for an answer ({}: {e}); start one with `ask`", waiting.display())
    })?;
    let store = workflow.checkpoint_store().ok_or("the workflow has no checkpoint store")?;
    let checkpoint = store.load(checkpoint_id.trim()).await.map_err(|e| e.to_string())?;
    println!("loaded checkpoint {} of run {}", checkpoint.checkpoint_id, checkpoint.run_id);
    let mut answers = Vec::new();
    for request in &checkpoint.pending_requests {
        let asked: AgentApprovalRequest = request.data_as().map_err(|e| e.to_string())?;
        show(&asked);
        println!("human: {}", if approve { "yes" } else { "no" });
        let decisions = if approve { asked.approve_all() } else { asked.reject_all() };
        answers.push(RequestResponse::new(&request.request_id, decisions));
    }
    let result =
        workflow.send_responses(&checkpoint.checkpoint_id, answers).await.map_err(|e| e.to_string())?;
    tokio::fs::remove_file(waiting).await.map_err(|e| format!("{}: {e}", waiting.display()))?;
    report(&result, waiting).await
}
