//! Executors: named units that handle typed messages.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::context::{ContextInner, WorkflowContext};
use crate::error::BoxError;
use crate::message::{AnyMessage, MessageType, WorkflowMessage};
use crate::request::PendingRequest;

/// A named unit of work in a workflow. It handles messages of type [`Executor::Input`] and sends
/// messages of type [`Executor::Output`] along its edges through the [`WorkflowContext`]; it may
/// also yield workflow outputs, emit events, use shared state and ask the outside for
/// information. Use an enum as `Input` to accept several kinds of messages.
///
/// One executor value serves every run of a workflow; an executor that keeps state does so
/// behind interior mutability, and saves it in checkpoints through [`Executor::snapshot`] and
/// [`Executor::restore`].
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// The messages it accepts.
    type Input: WorkflowMessage;
    /// The messages it sends along its edges (`()` when it sends none).
    type Output: WorkflowMessage;

    /// Its id, unique within a workflow.
    fn id(&self) -> &str;

    /// Handles one message.
    async fn handle(&self, input: Self::Input, ctx: &WorkflowContext<Self::Output>) -> Result<(), BoxError>;

    /// Handles the caller's answer to a request this executor made with
    /// [`WorkflowContext::request_info`]. `response` holds the answer's type asked for there.
    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<Self::Output>,
    ) -> Result<(), BoxError> {
        let _ = (response, ctx);
        Err(format!(
            "executor '{}' has no response handler for request '{}' ({})",
            self.id(),
            request.request_id,
            request.request_type
        )
        .into())
    }

    /// The executor's state for a checkpoint (`None`: it keeps none).
    fn snapshot(&self) -> Result<Option<Value>, BoxError> {
        Ok(None)
    }

    /// Restores state saved by [`Executor::snapshot`] when a run resumes.
    fn restore(&self, state: Value) -> Result<(), BoxError> {
        let _ = state;
        Ok(())
    }
}

/// What a handler call receives.
pub(crate) enum Delivery {
    /// A message along an edge (or the run's input).
    Message(AnyMessage),
    /// An answer to one of the executor's requests.
    Response(Box<PendingRequest>, AnyMessage),
}

/// An executor with its types erased, as the engine holds it.
#[async_trait]
pub(crate) trait ErasedExecutor: Send + Sync {
    fn id(&self) -> &str;
    fn input_type(&self) -> MessageType;
    fn output_type(&self) -> MessageType;
    async fn deliver(&self, delivery: Delivery, ctx: Arc<ContextInner>) -> Result<(), BoxError>;
    fn snapshot(&self) -> Result<Option<Value>, BoxError>;
    fn restore(&self, state: Value) -> Result<(), BoxError>;
}

pub(crate) struct Erased<E>(pub(crate) E);

#[async_trait]
impl<E: Executor> ErasedExecutor for Erased<E> {
    fn id(&self) -> &str {
        self.0.id()
    }

    fn input_type(&self) -> MessageType {
        MessageType::of::<E::Input>()
    }

    fn output_type(&self) -> MessageType {
        MessageType::of::<E::Output>()
    }

    async fn deliver(&self, delivery: Delivery, ctx: Arc<ContextInner>) -> Result<(), BoxError> {
        let ctx = WorkflowContext::<E::Output>::new(ctx);
        match delivery {
            Delivery::Message(message) => match message.take::<E::Input>() {
                Ok(input) => self.0.handle(input, &ctx).await,
                Err(other) => Err(format!(
                    "executor '{}' accepts {} but received {}",
                    self.0.id(),
                    std::any::type_name::<E::Input>(),
                    other.type_name()
                )
                .into()),
            },
            Delivery::Response(request, response) => self.0.handle_response(*request, response, &ctx).await,
        }
    }

    fn snapshot(&self) -> Result<Option<Value>, BoxError> {
        self.0.snapshot()
    }

    fn restore(&self, state: Value) -> Result<(), BoxError> {
        self.0.restore(state)
    }
}

/// An executor made from an async closure over `(message, context)`.
///
/// ```
/// use weft_workflow::{FnExecutor, WorkflowContext};
///
/// let add_one = FnExecutor::new("add_one", |x: i64, ctx: WorkflowContext<i64>| async move {
///     ctx.send_message(x + 1);
///     Ok(())
/// });
/// ```
pub struct FnExecutor<I, O, F> {
    id: String,
    handler: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, F> std::fmt::Debug for FnExecutor<I, O, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnExecutor").field("id", &self.id).finish()
    }
}

impl<I, O, F, Fut> FnExecutor<I, O, F>
where
    I: WorkflowMessage,
    O: WorkflowMessage,
    F: Fn(I, WorkflowContext<O>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    /// An executor with this id that runs `handler` for every message.
    pub fn new(id: impl Into<String>, handler: F) -> Self {
        Self { id: id.into(), handler, _types: PhantomData }
    }
}

#[async_trait]
impl<I, O, F, Fut> Executor for FnExecutor<I, O, F>
where
    I: WorkflowMessage,
    O: WorkflowMessage,
    F: Fn(I, WorkflowContext<O>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    type Input = I;
    type Output = O;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(&self, input: I, ctx: &WorkflowContext<O>) -> Result<(), BoxError> {
        (self.handler)(input, ctx.clone()).await
    }
}
