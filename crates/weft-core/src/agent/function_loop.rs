//! The function-invocation loop: model → tool calls (run concurrently) → results → model, until
//! the model answers, a tool needs approval, or the iteration limit is reached.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::future::BoxFuture;

use super::{AgentInner, AgentRunContext, ToolsByName};
use crate::bridge::UpdateSink;
use crate::budget::{BudgetOverrun, RunBudgets};
use crate::client::ChatRequest;
use crate::context::{self as context_provider, AddedContext, RunEnd, RunStart};
use crate::error::{AgentError, ChatError, ChatErrorKind};
use crate::message::{ApprovalRequest, Content, FunctionCall, FunctionResult, Message, Role};
use crate::middleware::Terminal;
use crate::options::ToolDefinition;
use crate::response::{ChatResponse, ResponseFolder};
use crate::telemetry::{self, InGenAiSpan as _};

use super::response::{AgentResponse, AgentResponseUpdate};

mod tool_calls;

use tool_calls::{
    Pending, Resumed, invoke_all, resume_pending_calls, split_approval_answers, tool_request_id,
};

/// What the terminal of a run leaves for the session: the messages to append, in order.
pub(crate) type SessionAppend = Arc<Mutex<Option<Vec<Message>>>>;

/// The end of the agent-middleware chain: runs the loop for one run.
pub(crate) struct RunLoop {
    pub(crate) agent: Arc<AgentInner>,
    pub(crate) history: Arc<Vec<Message>>,
    pub(crate) sink: Option<UpdateSink<AgentResponseUpdate>>,
    pub(crate) append: SessionAppend,
}

impl Terminal<AgentRunContext> for RunLoop {
    fn call(&self, context: AgentRunContext) -> BoxFuture<'static, Result<AgentResponse, AgentError>> {
        let agent = self.agent.clone();
        let history = self.history.clone();
        let sink = self.sink.clone();
        let append = self.append.clone();
        // Boxed: the run's future (and `run_loop`'s, which it is moved into) holds a pointer, not
        // two copies of the context, for the whole run; `run_loop` takes it apart at once.
        let context = Box::new(context);
        Box::pin(async move {
            let providers = &agent.context_providers;
            let session_id = context.session_id.clone();
            let input = if providers.is_empty() { Vec::new() } else { context.messages.clone() };
            let start = RunStart {
                agent_name: &agent.name,
                session_id: &session_id,
                history: &history,
                input: &input,
            };
            let added = context_provider::before_run(providers, start)
                .await
                .map_err(|error| AgentError::Other { agent: agent.name.clone(), source: Box::new(error) })?;
            let (response, appended) = run_loop(&agent, &history, context, &added, sink.as_ref()).await?;
            let end = RunEnd {
                agent_name: &agent.name,
                session_id: &session_id,
                input: &input,
                response: &response,
            };
            context_provider::after_run(providers, end).await;
            if let Ok(mut slot) = append.lock() {
                *slot = Some(appended);
            }
            Ok(response)
        })
    }
}

/// Sends an update to the caller. A closed channel means the caller dropped the stream; the
/// run is being dropped with it, so the error is reported as a cancellation.
///
/// The send is boxed (only streamed runs send, and only tool results and approval requests):
/// inline, the channel's send future and the update would take their room in the run's future
/// for the whole run, model call included.
fn emit<'a>(
    sink: Option<&'a UpdateSink<AgentResponseUpdate>>,
    update: AgentResponseUpdate,
) -> impl Future<Output = Result<(), AgentError>> + Send + 'a {
    use futures::future::{Either, ready};
    match sink {
        Some(sink) => {
            Either::Right(Box::pin(async move { sink.send(update).await.map_err(|_| AgentError::Cancelled) }))
        }
        None => Either::Left(ready(Ok(()))),
    }
}

/// The loop. Returns the run's response and the messages to append to the session.
async fn run_loop(
    agent: &AgentInner,
    history: &[Message],
    context: Box<AgentRunContext>,
    added: &AddedContext,
    sink: Option<&UpdateSink<AgentResponseUpdate>>,
) -> Result<(AgentResponse, Vec<Message>), AgentError> {
    // Out of its box through a call, so that the box is freed now, not when the run ends.
    let AgentRunContext { messages: input, options: run_options, .. } = super::unboxed(context);
    let mut response = AgentResponse::default();
    let mut appended: Vec<Message> = Vec::new();

    let mut base_options = run_options.merged_over(&agent.options);
    let budgets = RunBudgets::new(agent.budget.as_ref(), base_options.budget.take().as_ref());

    // Approvals: answer the calls the previous run left waiting, before anything else.
    let (answers, input) = split_approval_answers(input);
    let mut tools = agent.current_tools();
    added.add_tools(&mut tools);
    let answered: HashSet<&str> =
        input.iter().flat_map(Message::function_results).map(|r| r.call_id.as_str()).collect();
    let resume = Pending { tools: &tools, declared: &base_options.tools, answered: &answered };
    // Boxed, as the tool calls below: rarely live, they would otherwise take room in the run's
    // future for the whole run.
    let resumed = Box::pin(resume_pending_calls(agent, history, answers, &resume, sink)).await?;
    let mut callers_turn = false;
    if let Some(Resumed { message, callers_calls_left, usage }) = resumed {
        response.usage += usage;
        budgets.record_tool_calls(message.function_results().count() as u64);
        if sink.is_some() {
            emit(sink, tool_update(agent, &message)).await?;
        }
        response.messages.push(message.clone());
        appended.push(message);
        callers_turn = callers_calls_left;
    }
    appended.extend(input);
    if callers_turn {
        // The held turn also called tools only the caller has: their results come first.
        return Ok((response, appended));
    }

    // What the model is sent: the instructions, the session's history and this run's messages
    // so far (copied into each request, which owns its messages; no other copy is kept).
    let instructions = added.instructions_over(agent.instructions.as_deref());
    let conversation = |appended: &[Message]| {
        let mut messages = Vec::with_capacity(1 + history.len() + added.messages.len() + appended.len());
        if let Some(instructions) = &instructions {
            messages.push(Message::system(instructions.clone()));
        }
        messages.extend(history.iter().cloned());
        messages.extend(added.messages.iter().cloned());
        messages.extend(appended.iter().cloned());
        messages
    };

    let mut tools = tools;
    for iteration in 0..agent.max_iterations {
        if iteration > 0 {
            tools = agent.current_tools();
            added.add_tools(&mut tools);
        }
        let mut options = base_options.clone();
        // In the order the tools were given (`ToolsByName`), the same on every run.
        for tool in tools.values() {
            if !options.tools.iter().any(|t| t.name == tool.definition().name) {
                options.tools.push(tool.definition().clone());
            }
        }
        let model = options.model.clone().or_else(|| agent.info.default_model.clone()).unwrap_or_default();
        if budgets.unpriced(&model) {
            return Err(AgentError::InvalidInput {
                agent: agent.name.clone(),
                message: format!("a budget limits cost but its price table has no price for model '{model}'"),
            });
        }
        if let Err(overrun) = budgets.check_model_call() {
            return Err(budget_exceeded(agent, overrun, response));
        }
        let request = ChatRequest::new(conversation(&appended), options);
        let chat = call_model(agent, request, sink)
            .await
            .map_err(|source| AgentError::Chat { agent: agent.name.clone(), source })?;
        response.model_calls += 1;
        if let Some(usage) = chat.usage {
            response.usage += usage;
            budgets.record_model_call(&model, &usage);
            if let Some(cost) = budgets.priced(&model, &usage) {
                *response.cost.get_or_insert(0.0) += cost;
            }
        }
        response.response_id = chat.response_id.clone().or(response.response_id.take());
        response.finish_reason = chat.finish_reason.clone();

        let mut produced: Vec<Message> = chat.messages;
        for message in &mut produced {
            if message.author_name.is_none() {
                message.author_name = Some(agent.name.clone());
            }
        }
        let calls: Vec<&FunctionCall> = produced.iter().flat_map(Message::function_calls).collect();

        if calls.is_empty() {
            response.messages.extend(produced.iter().cloned());
            appended.extend(produced);
            return Ok((response, appended));
        }

        // A call to a tool the caller only declared (in the run's options, with no tool behind
        // it) is the caller's to handle: the run ends with the call, not invoked. The turn's
        // other calls still get their results first (the model's API refuses a conversation
        // with a call left without one).
        let (callers, ours): (Vec<&FunctionCall>, Vec<&FunctionCall>) =
            calls.iter().partition(|call| is_declared_only(call, &tools, &base_options.tools));

        // A call that needs approval holds the whole turn until the caller answers.
        let needs_approval: Vec<&FunctionCall> = ours
            .iter()
            .copied()
            .filter(|call| tools.get(&call.name).is_some_and(|tool| tool.requires_approval(call)))
            .collect();
        if !needs_approval.is_empty() {
            let requests: Vec<Content> = needs_approval
                .iter()
                .map(|call| {
                    Content::ApprovalRequest(ApprovalRequest {
                        id: format!("approval_{}", call.call_id),
                        call: (*call).clone(),
                    })
                })
                .collect();
            emit(
                sink,
                AgentResponseUpdate {
                    role: Some(Role::Assistant),
                    author_name: Some(agent.name.clone()),
                    contents: requests.clone(),
                    ..Default::default()
                },
            )
            .await?;
            if let Some(last) = produced.iter_mut().rev().find(|m| m.role == Role::Assistant) {
                last.contents.extend(requests);
            }
            response.messages.extend(produced.iter().cloned());
            appended.extend(produced);
            return Ok((response, appended));
        }

        if !ours.is_empty()
            && let Err(overrun) = budgets.check_tool_batch(ours.len() as u64)
        {
            // Every call gets a result, so that the partial response is a valid conversation.
            let results = calls
                .iter()
                .map(|call| {
                    Content::FunctionResult(FunctionResult::error(
                        call.call_id.clone(),
                        format!("not run: the run's budget is exceeded ({overrun})"),
                    ))
                })
                .collect();
            let refused = Message::new(Role::Tool, results);
            // A streamed run shows the refusals too: its updates hold what the partial holds.
            if sink.is_some() {
                emit(sink, tool_update(agent, &refused)).await?;
            }
            response.messages.extend(produced);
            response.messages.push(refused);
            return Err(budget_exceeded(agent, overrun, response));
        }
        budgets.record_tool_calls(ours.len() as u64);
        let callers_turn = !callers.is_empty();
        let mut held: Vec<Content> = Vec::new();
        let tool_message = if ours.is_empty() {
            None
        } else {
            let mut results = Vec::with_capacity(ours.len());
            for (result, report) in Box::pin(invoke_all(agent, &tools, &ours, sink)).await {
                response.usage += report.usage;
                if report.approvals.is_empty() {
                    results.push(Content::FunctionResult(result));
                } else {
                    // The tool waits for the caller (an agent tool whose agent asks for
                    // approval): the call stays without a result until the answers come.
                    held.extend(report.approvals.into_iter().map(|request| {
                        Content::ApprovalRequest(ApprovalRequest {
                            id: tool_request_id(&result.call_id, &request.id),
                            call: request.call,
                        })
                    }));
                }
            }
            (!results.is_empty()).then(|| Message::new(Role::Tool, results))
        };
        if !held.is_empty() {
            emit(
                sink,
                AgentResponseUpdate {
                    role: Some(Role::Assistant),
                    author_name: Some(agent.name.clone()),
                    contents: held.clone(),
                    ..Default::default()
                },
            )
            .await?;
            if let Some(last) = produced.iter_mut().rev().find(|m| m.role == Role::Assistant) {
                last.contents.extend(held);
            }
        }
        if let Some(message) = &tool_message
            && sink.is_some()
        {
            emit(sink, tool_update(agent, message)).await?;
        }
        let held =
            produced.iter().any(|m| m.contents.iter().any(|c| matches!(c, Content::ApprovalRequest(_))));
        response.messages.extend(produced.iter().cloned());
        appended.extend(produced);
        if let Some(message) = tool_message {
            response.messages.push(message.clone());
            appended.push(message);
        }
        if callers_turn || held {
            return Ok((response, appended));
        }
    }
    Err(AgentError::MaxIterations {
        agent: agent.name.clone(),
        limit: agent.max_iterations,
        response: Box::new(response),
    })
}

fn budget_exceeded(agent: &AgentInner, overrun: BudgetOverrun, response: AgentResponse) -> AgentError {
    AgentError::BudgetExceeded { agent: agent.name.clone(), overrun, response: Box::new(response) }
}

/// Whether `call` is for a tool the caller declared (in the run's options) with no tool of the
/// agent behind it: the caller's to handle.
fn is_declared_only(call: &FunctionCall, tools: &ToolsByName, declared: &[ToolDefinition]) -> bool {
    !tools.contains_key(&call.name) && declared.iter().any(|t| t.name == call.name)
}

fn tool_update(agent: &AgentInner, message: &Message) -> AgentResponseUpdate {
    AgentResponseUpdate {
        role: Some(Role::Tool),
        author_name: Some(agent.name.clone()),
        contents: message.contents.clone(),
        message_id: Some(format!("tool_{}", super::session::random_uuid().simple())),
        ..Default::default()
    }
}

/// One model call inside a `chat` span; streamed when the run is streamed.
///
/// Not an `async fn`: the call's future is made (and `request` moved into it) before the first
/// await, so the future of a run in flight holds the provider's boxed future and the span, not
/// a second copy of the request nor the streamed branch's state (a run holds this future for as
/// long as the model takes: at 10,000 runs in flight each byte here is 10 KB).
fn call_model<'a>(
    agent: &'a AgentInner,
    request: ChatRequest,
    sink: Option<&'a UpdateSink<AgentResponseUpdate>>,
) -> impl Future<Output = Result<ChatResponse, ChatError>> + Send + 'a {
    let model = request.options.model.as_deref().or(agent.info.default_model.as_deref()).unwrap_or("");
    let span = telemetry::chat_span(&agent.info.provider, model, &request.options);
    let capture = agent.capture_content && !span.is_disabled();
    if capture {
        let (instructions, messages) = telemetry::split_system(&request.messages);
        if let Some(instructions) = instructions {
            span.record(telemetry::SYSTEM_INSTRUCTIONS, instructions);
        }
        span.record(telemetry::INPUT_MESSAGES, telemetry::messages_json(messages));
    }
    let started = std::time::Instant::now();
    let metric_model = telemetry::metrics::enabled().then(|| model.to_string());
    let call: BoxFuture<'a, Result<ChatResponse, ChatError>> = match sink {
        // Made in the span: a client may do work before its future is first polled.
        None => span.in_scope(|| agent.client.get_response(request)).unwrap_or_else(|| {
            Box::pin(std::future::ready(Err(ChatError::new(
                ChatErrorKind::Other,
                "the telemetry span hook did not run the model call",
            ))))
        }),
        Some(sink) => Box::pin(stream_model(agent, request, sink)),
    };
    async move {
        let result = call.in_span(span.clone()).await;
        match &result {
            Ok(chat) => {
                telemetry::record_chat_response(&span, chat);
                if capture {
                    let output = telemetry::output_messages_json(&chat.messages, chat.finish_reason.as_ref());
                    span.record(telemetry::OUTPUT_MESSAGES, output);
                }
            }
            Err(error) => telemetry::record_error(&span, &error.kind()),
        }
        if let Some(model) = metric_model {
            telemetry::record_chat_metrics(&agent.info.provider, &model, started.elapsed(), &result);
        }
        result
    }
}

/// A streamed model call: each update goes to the caller as it comes, and the response is
/// their fold.
async fn stream_model(
    agent: &AgentInner,
    request: ChatRequest,
    sink: &UpdateSink<AgentResponseUpdate>,
) -> Result<ChatResponse, ChatError> {
    let mut stream = agent.client.get_streaming_response(request);
    let mut folder = ResponseFolder::new();
    while let Some(update) = stream.next().await {
        let mut update = update?;
        update.author_name = Some(agent.name.clone());
        folder.push_ref(&update);
        if sink.send(update).await.is_err() {
            return Err(ChatError::new(ChatErrorKind::Cancelled, "the caller dropped the stream"));
        }
    }
    Ok(folder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentSession, ChatAgent};
    use crate::scripted::ScriptedClient;

    /// A run in flight holds these futures for as long as the model takes: at 10,000 runs in
    /// flight each KiB is 10 MiB (BENCHMARKS.md, "S-concurrent-h2"). They were 5,744 and 2,272
    /// bytes before the tool calls, the streamed branch and the run's context were taken out of
    /// them; the bounds leave room for other compilers' layouts, not for those to come back.
    #[test]
    fn the_futures_a_run_holds_while_the_model_answers_stay_small() {
        let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).name("a").instructions("i").build();
        let context =
            agent.context(&AgentSession::new(), vec![Message::user("hi")], Default::default(), false);
        let terminal = RunLoop {
            agent: agent.inner.clone(),
            history: Arc::default(),
            sink: None,
            append: Arc::default(),
        };
        let run_loop = terminal.call(context);
        let run_loop_bytes = std::mem::size_of_val(&*run_loop);
        assert!(run_loop_bytes <= 3_500, "the run loop's future is {run_loop_bytes} bytes");
        let mut session = AgentSession::new();
        let run = agent.run(&mut session, "hi");
        let run_bytes = std::mem::size_of_val(&run);
        assert!(run_bytes <= 1_000, "ChatAgent::run's future is {run_bytes} bytes");
    }
}
