#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Workflows as agents, and workflows inside workflows.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use weft_core::{
    Agent, AgentSession, ChatAgent, ChatOptions, Content, FunctionResult, Message, Role, ScriptedClient,
};
use weft_workflow::{
    AgentExecutor, AnyMessage, BoxError, Executor, FnExecutor, InMemoryCheckpointStore, PendingRequest,
    REQUEST_INFO_FUNCTION, RunStatus, SubWorkflow, Workflow, WorkflowAgent, WorkflowBuilder, WorkflowContext,
    WorkflowError, WorkflowEvent,
};

fn agent(name: &str) -> Arc<ChatAgent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).build())
}

fn two_agents() -> Workflow {
    WorkflowBuilder::new()
        .start_with(AgentExecutor::new(agent("writer")))
        .add_executor(AgentExecutor::new(agent("reviewer")).yield_messages(true))
        .add_edge("writer", "reviewer")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_workflow_answers_as_an_agent() {
    let agent = WorkflowAgent::new("team", two_agents()).unwrap().with_description("writes and reviews");
    assert_eq!(agent.name(), "team");
    assert_eq!(agent.description(), Some("writes and reviews"));
    let mut session = AgentSession::new();
    let response =
        agent.run_messages(&mut session, vec![Message::user("hello")], ChatOptions::default()).await.unwrap();
    assert_eq!(response.messages.len(), 1);
    assert_eq!(response.messages[0].author_name.as_deref(), Some("reviewer"));
    assert_eq!(response.text(), "You said: hello");
    assert!(response.usage.input_tokens > 0, "usage of the agents inside is summed");
    assert_eq!(session.messages.len(), 2);

    // Streamed: the agents' own updates, and the second turn sees the conversation so far.
    let mut stream =
        agent.run_messages_stream(&mut session, vec![Message::user("again")], ChatOptions::default());
    let mut authors = Vec::new();
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        if let Some(author) = update.author_name {
            if !authors.contains(&author) {
                authors.push(author);
            }
        }
    }
    drop(stream);
    assert_eq!(authors, vec!["writer", "reviewer"]);
    assert_eq!(session.messages.len(), 4);
    assert_eq!(session.messages[3].text(), "You said: again");
}

#[tokio::test]
async fn outputs_of_other_types_become_assistant_messages() {
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("count", |messages: Vec<Message>, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("{} messages", messages.len()));
            ctx.yield_output(vec![1_i64, 2]);
            Ok(())
        }))
        .build()
        .unwrap();
    let agent = WorkflowAgent::new("counter", workflow).unwrap();
    let mut session = AgentSession::new();
    let mut stream =
        agent.run_messages_stream(&mut session, vec![Message::user("a")], ChatOptions::default());
    let mut texts = Vec::new();
    while let Some(update) = stream.next().await {
        // Updates without text are the run's progress events.
        texts.push(update.unwrap().text_content());
    }
    drop(stream);
    texts.retain(|t| !t.is_empty());
    assert_eq!(texts, vec!["1 messages", "[1,2]"]);
    assert_eq!(session.messages[1].author_name.as_deref(), Some("counter"));

    let numbers = WorkflowBuilder::new()
        .start_with(FnExecutor::new("n", |_: i64, _: WorkflowContext<()>| async move { Ok(()) }))
        .build()
        .unwrap();
    assert!(matches!(WorkflowAgent::new("x", numbers).unwrap_err(), WorkflowError::InputType { .. }));
}

/// Asks whether to send the conversation's last text.
struct Gate;

#[async_trait]
impl Executor for Gate {
    type Input = Vec<Message>;
    type Output = ();

    fn id(&self) -> &str {
        "gate"
    }

    async fn handle(&self, messages: Vec<Message>, ctx: &WorkflowContext<()>) -> Result<(), BoxError> {
        let text = messages.last().map(Message::text).unwrap_or_default();
        ctx.request_info::<String, bool>(text)?;
        Ok(())
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<()>,
    ) -> Result<(), BoxError> {
        let text: String = request.data_as()?;
        let approved = response.take::<bool>().map_err(|m| format!("not a bool: {m:?}"))?;
        ctx.yield_output(if approved { format!("sent: {text}") } else { "dropped".into() });
        Ok(())
    }
}

#[tokio::test]
async fn requests_become_function_calls_and_results_answer_them() {
    let workflow = WorkflowBuilder::new()
        .start_with(Gate)
        .with_checkpoint_store(Arc::new(InMemoryCheckpointStore::new()))
        .build()
        .unwrap();
    let agent = WorkflowAgent::new("gatekeeper", workflow).unwrap();
    let mut session = AgentSession::new();
    let asked = agent
        .run_messages(&mut session, vec![Message::user("ship it")], ChatOptions::default())
        .await
        .unwrap();
    let call = asked.messages[0].function_calls().next().unwrap().clone();
    assert_eq!(call.name, REQUEST_INFO_FUNCTION);
    assert_eq!(call.arguments["data"], json!("ship it"));
    assert_eq!(call.arguments["executor_id"], json!("gate"));

    let answer = Message::new(
        Role::Tool,
        vec![Content::FunctionResult(FunctionResult::ok(&call.call_id, json!(true)))],
    );
    let done = agent.run_messages(&mut session, vec![answer], ChatOptions::default()).await.unwrap();
    assert_eq!(done.text(), "sent: ship it");
    assert_eq!(session.messages.len(), 4, "question, call, result, answer");
    assert!(session.metadata.is_empty(), "nothing pending any more: {:?}", session.metadata);

    // Without a checkpoint store the run cannot pause.
    let no_store = WorkflowAgent::new("g", WorkflowBuilder::new().start_with(Gate).build().unwrap()).unwrap();
    let error = no_store
        .run_messages(&mut AgentSession::new(), vec![Message::user("x")], ChatOptions::default())
        .await;
    assert!(error.unwrap_err().to_string().contains("checkpoint store"));
}

fn doubler() -> Workflow {
    WorkflowBuilder::new()
        .name("doubler")
        .start_with(FnExecutor::new("double", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x * 2);
            Ok(())
        }))
        .add_executor(FnExecutor::new("again", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.add_event(format!("inner saw {x}"));
            ctx.yield_output(x * 2);
            Ok(())
        }))
        .add_edge("double", "again")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_sub_workflow_runs_as_an_executor_and_forwards_its_events() {
    let outer = WorkflowBuilder::new()
        .start_with(FnExecutor::new("plus", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x + 1);
            Ok(())
        }))
        .add_executor(SubWorkflow::<i64, i64>::new("quadruple", doubler()).unwrap())
        .add_executor(FnExecutor::new("report", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("got {x}"));
            Ok(())
        }))
        .add_edge("plus", "quadruple")
        .add_edge("quadruple", "report")
        .build()
        .unwrap();
    let result = outer.run(2_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::Idle);
    assert_eq!(result.outputs_as::<String>(), vec!["got 12"]);
    let forwarded: Vec<String> = result
        .events
        .iter()
        .filter_map(|e| match e {
            WorkflowEvent::SubWorkflow { executor_id, event } if executor_id == "quadruple" => match &**event
            {
                WorkflowEvent::Custom { event, .. } => event.get::<String>().cloned(),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(forwarded, vec!["inner saw 6"]);

    assert!(SubWorkflow::<String, i64>::new("bad", doubler()).is_err());

    // An inner failure fails the executor.
    let failing = WorkflowBuilder::new()
        .start_with(FnExecutor::new(
            "boom",
            |_: i64, _: WorkflowContext<i64>| async move { Err("boom".into()) },
        ))
        .build()
        .unwrap();
    let outer = WorkflowBuilder::new()
        .start_with(SubWorkflow::<i64, i64>::new("inner", failing).unwrap())
        .build()
        .unwrap();
    let result = outer.run(1_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::Failed);
    assert!(result.error().unwrap().to_string().contains("boom"));
}

#[tokio::test]
async fn agents_inside_a_sub_workflow_stream_through() {
    let outer = WorkflowBuilder::new()
        .start_with(
            SubWorkflow::<Vec<Message>, Vec<Message>>::new("team", two_agents()).unwrap().yield_outputs(true),
        )
        .build()
        .unwrap();
    let result = outer.run(vec![Message::user("hi")]).await.unwrap();
    assert_eq!(result.outputs_as::<Vec<Message>>()[0].last().unwrap().text(), "You said: hi");
    let updates = result
        .events
        .iter()
        .filter(|e| matches!(e, WorkflowEvent::AgentUpdate { executor_id, .. } if executor_id == "team"))
        .count();
    assert!(updates > 0);
}

#[tokio::test]
async fn a_failing_workflow_is_an_agent_error_that_keeps_its_cause() {
    let failing = WorkflowBuilder::new()
        .start_with(FnExecutor::new(
            "boom",
            |_: Vec<Message>, _ctx: WorkflowContext<Vec<Message>>| async move {
                Err::<(), BoxError>("the reactor is offline".into())
            },
        ))
        .build()
        .unwrap();
    let agent = WorkflowAgent::new("plant", failing).unwrap();
    let error =
        agent.run_messages(&mut AgentSession::new(), vec![Message::user("go")], ChatOptions::default()).await;
    let error = error.unwrap_err();
    assert!(matches!(&error, weft_core::AgentError::Other { agent, .. } if agent == "plant"), "{error:?}");
    let mut chain = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = cause {
        chain.push(current.to_string());
        cause = current.source();
    }
    assert!(chain.iter().skip(1).any(|c| c.contains("the reactor is offline")), "{chain:?}");
}
