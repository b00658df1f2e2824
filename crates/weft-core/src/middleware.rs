//! Middleware: interception points around an agent run, each chat-client call and each function
//! invocation.
//!
//! One small contract serves all three, modelled on axum's `middleware::from_fn` over tower's
//! `Layer`: a [`Middleware<C>`] receives the call `C` and a [`Next<C>`]; it can inspect or change
//! the call, call `next.run(call)` (or not, to short-circuit with its own result), and inspect,
//! change or time the result. Middleware run in the order they were added: the first added is
//! the outermost.
//!
//! | interception point | call type `C` | result |
//! |---|---|---|
//! | agent run | [`AgentRunContext`](crate::agent::AgentRunContext) | `Result<AgentResponse, AgentError>` |
//! | chat-client call | [`ChatRequest`](crate::ChatRequest) | `Result<ChatResponse, ChatError>` |
//! | function invocation | [`FunctionInvocation`] | `Result<ToolOutput, ToolError>` |
//!
//! Streamed runs and calls pass through the same middleware: the updates reach the caller as they
//! are produced, and the middleware sees the folded result when the stream ends (so it can time
//! or record it; a result a middleware returns without calling `next` is streamed as updates).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::error::ToolError;
use crate::message::FunctionCall;
use crate::tool::{Tool, ToolContext, ToolOutput};

/// A call that middleware can intercept, with the type of its result.
pub trait Call: Send + 'static {
    /// The result of the call.
    type Output: Send + 'static;
}

/// Intercepts calls of type `C`. See the [module docs](self).
#[async_trait]
pub trait Middleware<C: Call>: Send + Sync + 'static {
    /// Handles the call; call `next.run(call)` to continue down the chain.
    async fn handle(&self, call: C, next: Next<C>) -> C::Output;
}

/// The end of a middleware chain: the real work.
pub(crate) trait Terminal<C: Call>: Send + Sync {
    fn call(&self, call: C) -> BoxFuture<'static, C::Output>;
}

/// The rest of a middleware chain, handed to each middleware.
pub struct Next<C: Call> {
    layers: Arc<[Arc<dyn Middleware<C>>]>,
    index: usize,
    terminal: Arc<dyn Terminal<C>>,
}

impl<C: Call> std::fmt::Debug for Next<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").field("remaining_layers", &(self.layers.len() - self.index)).finish()
    }
}

impl<C: Call> Next<C> {
    pub(crate) fn new(layers: Arc<[Arc<dyn Middleware<C>>]>, terminal: Arc<dyn Terminal<C>>) -> Self {
        Self { layers, index: 0, terminal }
    }

    /// Runs the rest of the chain with `call`.
    ///
    /// Returns a boxed future that `call` moves into at once (the terminal's own, when no layer
    /// is left), so that a caller awaiting it holds one pointer, not a copy of the call, for as
    /// long as the call runs.
    pub fn run(self, call: C) -> BoxFuture<'static, C::Output> {
        match self.layers.get(self.index).cloned() {
            Some(layer) => {
                let next = Next { layers: self.layers, index: self.index + 1, terminal: self.terminal };
                Box::pin(async move { layer.handle(call, next).await })
            }
            None => self.terminal.call(call),
        }
    }
}

/// A middleware made from an async function; see [`from_fn`].
pub struct FromFn<C, F> {
    function: F,
    _call: PhantomData<fn(C)>,
}

impl<C, F> std::fmt::Debug for FromFn<C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FromFn")
    }
}

/// Makes a middleware from an async function `(call, next) -> result`.
///
/// ```
/// use weft_core::middleware::{from_fn, FunctionInvocation, Next};
///
/// let log_calls = from_fn(|invocation: FunctionInvocation, next: Next<FunctionInvocation>| async move {
///     println!("calling {}", invocation.call.name);
///     next.run(invocation).await
/// });
/// # let _ = log_calls;
/// ```
pub fn from_fn<C, F, Fut>(function: F) -> FromFn<C, F>
where
    C: Call,
    F: Fn(C, Next<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = C::Output> + Send + 'static,
{
    FromFn { function, _call: PhantomData }
}

#[async_trait]
impl<C, F, Fut> Middleware<C> for FromFn<C, F>
where
    C: Call,
    F: Fn(C, Next<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = C::Output> + Send + 'static,
{
    async fn handle(&self, call: C, next: Next<C>) -> C::Output {
        (self.function)(call, next).await
    }
}

/// One function invocation, as function middleware sees it.
#[derive(Clone)]
pub struct FunctionInvocation {
    /// The model's call (a middleware may change its arguments).
    pub call: FunctionCall,
    /// The tool that will run.
    pub tool: Arc<dyn Tool>,
    /// The invocation context.
    pub context: ToolContext,
}

impl std::fmt::Debug for FunctionInvocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionInvocation")
            .field("call", &self.call)
            .field("context", &self.context)
            .finish()
    }
}

impl Call for FunctionInvocation {
    type Output = Result<ToolOutput, ToolError>;
}

/// Runs the tool of a function invocation.
pub(crate) struct InvokeTool;

impl Terminal<FunctionInvocation> for InvokeTool {
    fn call(&self, invocation: FunctionInvocation) -> BoxFuture<'static, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let FunctionInvocation { call, tool, context } = invocation;
            tool.invoke(call.arguments, &context).await
        })
    }
}

/// A list of middleware for one interception point.
pub(crate) type Layers<C> = Arc<[Arc<dyn Middleware<C>>]>;
