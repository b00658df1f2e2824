//! Tool calls: running a model turn's calls concurrently, and resuming a held turn's calls once
//! their approvals are answered.

use std::collections::HashSet;
use std::sync::Arc;

use crate::telemetry::InGenAiSpan as _;
use futures::future::{BoxFuture, join_all};

use super::super::response::AgentResponseUpdate;
use super::super::{AgentInner, ToolsByName};
use super::is_declared_only;
use crate::bridge::UpdateSink;
use crate::error::{AgentError, ToolError, ToolErrorKind};
use crate::message::{
    ApprovalRequest, ApprovalResponse, Content, FunctionCall, FunctionResult, Message, Role,
};
use crate::middleware::{FunctionInvocation, InvokeTool, Next, Terminal};
use crate::options::ToolDefinition;
use crate::telemetry;
use crate::tool::{ToolContext, ToolReport, ToolRun};

/// Runs every call concurrently (on this task: dropping the run drops them all) and returns the
/// results in the calls' order.
pub(super) async fn invoke_all(
    agent: &AgentInner,
    tools: &ToolsByName,
    calls: &[&FunctionCall],
    sink: Option<&UpdateSink<AgentResponseUpdate>>,
) -> Vec<(FunctionResult, ToolReport)> {
    join_all(calls.iter().map(|call| invoke_one(agent, tools, (*call).clone(), sink, Vec::new()))).await
}

/// The id of the approval request a tool asked for (`request_id`) in call `call_id`, as the
/// caller sees it.
pub(super) fn tool_request_id(call_id: &str, request_id: &str) -> String {
    format!("approval_{call_id}:{request_id}")
}

/// Runs one call; the tool's report says what it added to the run (usage, approvals).
pub(super) async fn invoke_one(
    agent: &AgentInner,
    tools: &ToolsByName,
    call: FunctionCall,
    sink: Option<&UpdateSink<AgentResponseUpdate>>,
    answers: Vec<ApprovalResponse>,
) -> (FunctionResult, ToolReport) {
    let call_id = call.call_id.clone();
    let Some(tool) = tools.get(&call.name).cloned() else {
        let mut available: Vec<&str> = tools.keys().map(String::as_str).collect();
        available.sort_unstable();
        let result = FunctionResult::error(
            call_id,
            format!("there is no tool named '{}'; available tools: {}", call.name, available.join(", ")),
        );
        return (result, ToolReport::default());
    };
    let span = telemetry::tool_span(&call.name, &call.call_id);
    let capture = agent.capture_content && !span.is_disabled();
    if capture {
        span.record(telemetry::TOOL_CALL_ARGUMENTS, call.arguments.to_string());
    }
    let run = ToolRun::new(sink.cloned(), answers);
    let context =
        ToolContext { call_id: call.call_id.clone(), agent_name: Some(agent.name.clone()), run: run.clone() };
    let tool_name = call.name.clone();
    let invocation = FunctionInvocation { call, tool, context };
    let started = std::time::Instant::now();
    let outcome = Next::new(agent.function_layers.clone(), Arc::new(InvokeTool) as Arc<dyn Terminal<_>>)
        .run(invocation)
        .in_span(span.clone())
        .await;
    if telemetry::metrics::enabled() {
        let error = outcome.as_ref().err().map(|error| format!("{:?}", error.kind()));
        telemetry::record_tool_metrics(&tool_name, started.elapsed(), error.as_deref());
    }
    let result = match outcome {
        Ok(output) => {
            if capture {
                span.record(telemetry::TOOL_CALL_RESULT, output.value.to_string());
            }
            FunctionResult { call_id, result: output.value, error: None, contents: output.contents }
        }
        Err(error) => {
            telemetry::record_error(&span, &error.kind());
            match span.tracing() {
                Some(span) => {
                    tracing::debug!(parent: span, %error, "tool call failed; the error goes back to the model")
                }
                None => tracing::debug!(%error, "tool call failed; the error goes back to the model"),
            }
            FunctionResult::error(call_id, describe_tool_error(&error))
        }
    };
    (result, run.take_report())
}

fn describe_tool_error(error: &ToolError) -> String {
    match error.kind() {
        ToolErrorKind::InvalidArguments => {
            format!("{}. Fix the arguments and call the tool again.", error.message())
        }
        _ => error.message().to_string(),
    }
}

/// Takes the approval answers out of the input, dropping messages left empty.
pub(super) fn split_approval_answers(input: Vec<Message>) -> (Vec<ApprovalResponse>, Vec<Message>) {
    let mut answers = Vec::new();
    let mut rest = Vec::with_capacity(input.len());
    for mut message in input {
        let before = message.contents.len();
        message.contents.retain(|content| match content {
            Content::ApprovalResponse(answer) => {
                answers.push(answer.clone());
                false
            }
            _ => true,
        });
        if !message.contents.is_empty() || before == 0 {
            rest.push(message);
        }
    }
    (answers, rest)
}

/// What a run resuming a held turn knows about its calls.
pub(super) struct Pending<'a> {
    /// The agent's tools now.
    pub(super) tools: &'a ToolsByName,
    /// The tools declared in this run's options.
    pub(super) declared: &'a [ToolDefinition],
    /// The calls this run's input has results for (the caller's own).
    pub(super) answered: &'a HashSet<&'a str>,
}

/// The results of a held turn's calls, made when the run resumes.
pub(super) struct Resumed {
    /// The tool message with the results.
    pub(super) message: Message,
    /// Whether calls to tools only the caller has are still without a result.
    pub(super) callers_calls_left: bool,
    /// The tokens the resumed tools reported.
    pub(super) usage: crate::message::Usage,
}

/// Answers the calls of the held assistant message (the last one, followed only by the results
/// of the calls that did not wait) that have no result yet: approved ones (and ones that never
/// needed approval) run, rejected or unanswered ones are reported as not approved, and a tool
/// that asked for approvals itself (an agent tool) runs again with the answers to its
/// requests. Calls the input answers, and calls to tools only the caller declared, are the
/// caller's and are left alone. Returns the tool message with the results, if there were such
/// calls.
pub(super) async fn resume_pending_calls(
    agent: &AgentInner,
    history: &[Message],
    answers: Vec<ApprovalResponse>,
    pending: &Pending<'_>,
    sink: Option<&UpdateSink<AgentResponseUpdate>>,
) -> Result<Option<Resumed>, AgentError> {
    let tools = pending.tools;
    let held_at = history.iter().rposition(|m| m.role != Role::Tool);
    let pending_message = held_at.and_then(|i| history.get(i)).filter(|m| m.role == Role::Assistant);
    let done: HashSet<&str> = held_at
        .map(|i| &history[i + 1..])
        .unwrap_or_default()
        .iter()
        .flat_map(Message::function_results)
        .map(|r| r.call_id.as_str())
        .collect();
    let requests: Vec<&ApprovalRequest> = pending_message
        .map(|m| {
            m.contents
                .iter()
                .filter_map(|c| match c {
                    Content::ApprovalRequest(r) => Some(r),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for answer in &answers {
        if !requests.iter().any(|r| r.id == answer.id) {
            return Err(AgentError::InvalidInput {
                agent: agent.name.clone(),
                message: format!("approval answer '{}' matches no pending approval request", answer.id),
            });
        }
    }
    let Some(message) = pending_message.filter(|_| !requests.is_empty()) else { return Ok(None) };

    let mut results: Vec<BoxFuture<'_, (FunctionResult, ToolReport)>> = Vec::new();
    let mut callers_calls_left = false;
    for call in message.function_calls() {
        if pending.answered.contains(call.call_id.as_str()) || done.contains(call.call_id.as_str()) {
            continue;
        }
        if is_declared_only(call, tools, pending.declared) {
            callers_calls_left = true;
            continue;
        }
        // Requests the tool asked for itself: it runs again with the answers (unanswered ones
        // count as rejected).
        let prefix = tool_request_id(&call.call_id, "");
        let own: Vec<ApprovalResponse> = requests
            .iter()
            .filter_map(|r| {
                let id = r.id.strip_prefix(&prefix)?;
                let approved = answers.iter().any(|a| a.id == r.id && a.approved);
                Some(ApprovalResponse { id: id.to_string(), approved, call: r.call.clone() })
            })
            .collect();
        if !own.is_empty() {
            results.push(Box::pin(invoke_one(agent, tools, call.clone(), sink, own)));
            continue;
        }
        let request = requests.iter().find(|r| r.call.call_id == call.call_id);
        let approved = match request {
            None => true,
            Some(request) => answers.iter().any(|a| a.id == request.id && a.approved),
        };
        if approved {
            results.push(Box::pin(invoke_one(agent, tools, call.clone(), sink, Vec::new())));
        } else {
            let call_id = call.call_id.clone();
            results.push(Box::pin(async move {
                (
                    FunctionResult::error(call_id, "the user did not approve this tool call"),
                    ToolReport::default(),
                )
            }));
        }
    }
    let mut usage = crate::message::Usage::default();
    let mut contents = Vec::with_capacity(results.len());
    for (result, report) in join_all(results).await {
        usage += report.usage;
        if report.approvals.is_empty() {
            contents.push(Content::FunctionResult(result));
        } else {
            // A held turn is resumed once: a tool that asks again gets an error result the
            // model can act on (call the tool again).
            let call_id = result.call_id;
            contents.push(Content::FunctionResult(FunctionResult::error(
                call_id,
                "the tool asked for another approval while resuming; call it again to go on",
            )));
        }
    }
    let message = Message::new(Role::Tool, contents);
    Ok(Some(Resumed { message, callers_calls_left, usage }))
}
