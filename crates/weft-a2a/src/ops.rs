//! The operations both bindings share, from their params (JSON) to their results (JSON in the
//! request's protocol version).

use std::sync::Arc;

use futures::Stream;
use serde_json::{Value, json};

use crate::A2aState;
use crate::error::A2aError;
use crate::model::{Message, Role, Task, TaskState, Version};
use crate::tasks::{Follow, ListQuery};

/// The largest `ListTasks` page.
const MAX_PAGE_SIZE: usize = 100;

/// The message of a `SendMessageRequest` (0.3's `MessageSendParams` has the same shape).
fn message_param(params: &Value) -> Result<Message, A2aError> {
    let value =
        params.get("message").ok_or_else(|| A2aError::InvalidParams("params.message is required".into()))?;
    let message = Message::parse(value).ok_or_else(|| {
        A2aError::InvalidParams(
            "params.message needs a messageId, a role and at least one text or data part".into(),
        )
    })?;
    if message.role != Role::User {
        return Err(A2aError::InvalidParams("params.message must come from the user".into()));
    }
    Ok(message)
}

/// A string param.
fn string_param<'a>(params: &'a Value, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A number param, given as a number or (in a query string) as text.
fn number_param(params: &Value, key: &str) -> Result<Option<usize>, A2aError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| A2aError::InvalidParams(format!("{key} must be >= 0"))),
        Some(Value::String(s)) => {
            s.parse().map(Some).map_err(|_| A2aError::InvalidParams(format!("{key} must be a number")))
        }
        Some(_) => Err(A2aError::InvalidParams(format!("{key} must be a number"))),
    }
}

/// The task id of `GetTask` / `CancelTask`.
fn task_id(params: &Value) -> Result<&str, A2aError> {
    string_param(params, "id").ok_or_else(|| A2aError::InvalidParams("params.id is required".into()))
}

/// Whether the client asked not to wait for the task's end (1.0's `returnImmediately`, 0.3's
/// `blocking: false`).
fn returns_immediately(params: &Value) -> bool {
    let configuration = params.get("configuration");
    let flag = |key: &str| configuration.and_then(|c| c.get(key)).and_then(Value::as_bool);
    flag("returnImmediately") == Some(true) || flag("blocking") == Some(false)
}

/// `SendMessage` / `message/send`: starts a task and, unless asked otherwise, waits for its end.
pub(crate) async fn send(
    state: &A2aState,
    entity: &str,
    params: &Value,
    version: Version,
) -> Result<Value, A2aError> {
    let agent =
        state.agent(entity).ok_or_else(|| A2aError::InvalidParams(format!("no agent named {entity}")))?;
    let message = message_param(params)?;
    let wait = !returns_immediately(params);
    let (task, follow) = state.tasks.start(entity, agent, message, wait).await?;
    if let Some(mut follow) = follow {
        // The stream closes once the task has ended (or waits for input).
        while follow.events.recv().await.is_some() {}
        // Dropped for falling behind (a flood of artifact chunks): wait for the end by polling.
        while follow.lagged.load(std::sync::atomic::Ordering::SeqCst)
            && !state.tasks.get(entity, &task.id).await?.status.state.ends_stream()
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let task = state.tasks.get(entity, &task.id).await?;
    let history = number_param(params.get("configuration").unwrap_or(&Value::Null), "historyLength")?;
    let task = task.to_json(version, history, true);
    Ok(match version {
        Version::V1 => json!({"task": task}),
        Version::V03 => task,
    })
}

/// `SendStreamingMessage` / `message/stream`: starts a task and streams it: the task, then its
/// status and artifact updates, ending with its final status.
pub(crate) async fn stream(
    state: &A2aState,
    entity: &str,
    params: &Value,
    version: Version,
) -> Result<impl Stream<Item = Result<Value, A2aError>> + Send + 'static, A2aError> {
    let agent =
        state.agent(entity).ok_or_else(|| A2aError::InvalidParams(format!("no agent named {entity}")))?;
    let message = message_param(params)?;
    let (task, events) = state.tasks.start(entity, agent, message, true).await?;
    let events = events.ok_or_else(|| A2aError::Internal("the task could not be followed".into()))?;
    Ok(follow(task, events, version, state.config.follower_buffer))
}

/// `SubscribeToTask` / `tasks/resubscribe`: the task now, then its updates until its stream ends.
pub(crate) async fn subscribe(
    state: &A2aState,
    entity: &str,
    params: &Value,
    version: Version,
) -> Result<impl Stream<Item = Result<Value, A2aError>> + Send + 'static, A2aError> {
    let (task, events) = state.tasks.subscribe(entity, task_id(params)?).await?;
    Ok(follow(task, events, version, state.config.follower_buffer))
}

/// The task, then each of its events; an error last when the follower fell behind and was
/// dropped.
fn follow(
    task: Task,
    follow: Follow,
    version: Version,
    buffer: usize,
) -> impl Stream<Item = Result<Value, A2aError>> + Send + 'static {
    let Follow { mut events, lagged } = follow;
    async_stream::stream! {
        let first = task.to_json(version, None, true);
        yield Ok(match version {
            Version::V1 => json!({"task": first}),
            Version::V03 => first,
        });
        while let Some(event) = events.recv().await {
            yield Ok(event.to_json(version, &task.id, &task.context_id));
        }
        if lagged.load(std::sync::atomic::Ordering::SeqCst) {
            yield Err(A2aError::Internal(format!(
                "this stream fell {buffer} events behind and was closed; the task {} goes on: follow it with \
                 GetTask or SubscribeToTask",
                task.id
            )));
        }
    }
}

/// `GetTask` / `tasks/get`.
pub(crate) async fn get(
    state: &A2aState,
    entity: &str,
    params: &Value,
    version: Version,
) -> Result<Value, A2aError> {
    let task = state.tasks.get(entity, task_id(params)?).await?;
    Ok(task.to_json(version, number_param(params, "historyLength")?, true))
}

/// `CancelTask` / `tasks/cancel`.
pub(crate) async fn cancel(
    state: &A2aState,
    entity: &str,
    params: &Value,
    version: Version,
) -> Result<Value, A2aError> {
    let task = state.tasks.cancel(entity, task_id(params)?).await?;
    Ok(task.to_json(version, None, true))
}

/// `ListTasks` (1.0 only): newest first; `pageToken` is the offset the previous page gave.
pub(crate) async fn list(state: &A2aState, entity: &str, params: &Value) -> Result<Value, A2aError> {
    let state_filter = match string_param(params, "status") {
        None | Some("TASK_STATE_UNSPECIFIED") => None,
        Some(name) => Some(
            TaskState::parse(name)
                .ok_or_else(|| A2aError::InvalidParams(format!("unknown status {name}")))?,
        ),
    };
    let page_size = number_param(params, "pageSize")?.unwrap_or(50).clamp(1, MAX_PAGE_SIZE);
    let offset = match string_param(params, "pageToken") {
        None => 0,
        Some(token) => {
            token.parse().map_err(|_| A2aError::InvalidParams(format!("invalid pageToken {token}")))?
        }
    };
    let query = ListQuery {
        context_id: string_param(params, "contextId").map(str::to_string),
        state: state_filter,
        page_size,
        offset,
    };
    let (tasks, total) = state.tasks.list(entity, &query).await?;
    let history = number_param(params, "historyLength")?;
    let artifacts = params.get("includeArtifacts").and_then(Value::as_bool).unwrap_or(false)
        || params.get("includeArtifacts").and_then(Value::as_str) == Some("true");
    let next = offset + tasks.len();
    let next_token = if next < total { next.to_string() } else { String::new() };
    Ok(json!({
        "tasks": tasks.iter().map(|t| t.to_json(Version::V1, history, artifacts)).collect::<Vec<_>>(),
        "nextPageToken": next_token,
        "pageSize": page_size,
        "totalSize": total,
    }))
}

/// The shared state, for the bindings.
pub(crate) type Shared = Arc<A2aState>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::time::Duration;

    use futures::StreamExt;
    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;
    use weft_core::{ChatAgent, ChatResponse, ReplayClient};

    use super::*;
    use crate::A2aConfig;
    use crate::model::Part;
    use crate::tasks::Tasks;

    #[tokio::test]
    async fn a_follower_that_falls_behind_is_dropped_with_an_error_and_the_task_goes_on() {
        let config = A2aConfig { follower_buffer: 4, ..A2aConfig::default() };
        let store = Arc::new(weft_host::InMemoryStore::default());
        let tasks = Arc::new(Tasks::new(store, TaskTracker::new(), CancellationToken::new(), &config));
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let answer = words.join(" ");
        let client = ReplayClient::new([ChatResponse::text(answer.clone())]);
        let agent = Arc::new(ChatAgent::builder(Arc::new(client)).build());
        let message = Message {
            message_id: "m1".into(),
            context_id: None,
            task_id: None,
            role: Role::User,
            parts: vec![Part::Text("hi".into())],
        };
        let (task, slow) = tasks.start("a", agent, message, true).await.unwrap();
        // The follower reads nothing while the task streams its 100 chunks.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !tasks.get("a", &task.id).await.unwrap().status.state.is_terminal() {
            assert!(tokio::time::Instant::now() < deadline, "the task did not end");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let items: Vec<Result<Value, A2aError>> =
            follow(task.clone(), slow.unwrap(), Version::V1, 4).collect().await;
        // The task, the 4 buffered events, then the error.
        assert_eq!(items.len(), 6, "{items:?}");
        let Some(Err(A2aError::Internal(message))) = items.last() else { panic!("{items:?}") };
        assert!(message.contains("fell 4 events behind"), "{message}");
        let ended = tasks.get("a", &task.id).await.unwrap();
        assert_eq!(ended.status.state, TaskState::Completed);
        assert_eq!(ended.artifacts[0].parts.concat(), answer);
    }
}
