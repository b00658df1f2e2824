//! Tools the model can call: the [`Tool`] trait, function tools made from typed async Rust
//! functions, approval modes, and tool sets whose contents can change between model turns.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::bridge::UpdateSink;
use crate::error::ToolError;
use crate::message::{ApprovalRequest, ApprovalResponse, Content, FunctionCall, Usage};
use crate::options::ToolDefinition;
use crate::response::ChatResponseUpdate;
use crate::schema::{ArgumentValidator, schema_for};

/// What a tool returns: a JSON value, plus rich contents (images, resource links) if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolOutput {
    /// The value the model is given (strings are given as they are, other values as JSON).
    pub value: Value,
    /// Rich contents besides the value.
    pub contents: Vec<Content>,
}

impl ToolOutput {
    /// An output of just a value.
    pub fn value(value: impl Into<Value>) -> Self {
        Self { value: value.into(), contents: Vec::new() }
    }
}

/// Context of one tool invocation.
#[derive(Debug, Clone, Default)]
pub struct ToolContext {
    /// The model's id for this call.
    pub call_id: String,
    /// The agent that runs the tool, if any.
    pub agent_name: Option<String>,
    /// The run that calls the tool: where a tool that runs an agent forwards its streamed
    /// updates, adds its usage and asks for approvals (see [`ToolRun`]).
    pub run: ToolRun,
}

/// What a tool can tell the agent run that calls it, besides its output: the streamed updates
/// of work it does (forwarded to the run's stream when the run streams), the tokens it used
/// (added to the run's usage), and approval requests (the run ends with them, and the caller's
/// answers come back to the tool in [`ToolRun::approval_answers`] when the run resumes).
/// [`crate::agent::AgentTool`] uses all three. Outside an agent run (the default) it records
/// nothing.
#[derive(Clone, Default)]
pub struct ToolRun {
    inner: Option<Arc<ToolRunInner>>,
}

struct ToolRunInner {
    sink: Option<UpdateSink<ChatResponseUpdate>>,
    usage: Mutex<Usage>,
    approvals: Mutex<Vec<ApprovalRequest>>,
    answers: Vec<ApprovalResponse>,
}

impl std::fmt::Debug for ToolRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRun")
            .field("streaming", &self.is_streaming())
            .field("answers", &self.approval_answers().len())
            .finish()
    }
}

/// What a tool reported to its run ([`ToolRun::take_report`]).
#[derive(Debug, Default)]
pub(crate) struct ToolReport {
    pub(crate) usage: Usage,
    pub(crate) approvals: Vec<ApprovalRequest>,
}

impl ToolRun {
    /// The handle of one call in a run: `sink` when the run streams, and the caller's answers
    /// to the approvals this call asked for in the previous run.
    pub(crate) fn new(sink: Option<UpdateSink<ChatResponseUpdate>>, answers: Vec<ApprovalResponse>) -> Self {
        Self {
            inner: Some(Arc::new(ToolRunInner {
                sink,
                usage: Mutex::new(Usage::default()),
                approvals: Mutex::new(Vec::new()),
                answers,
            })),
        }
    }

    /// Whether the calling run streams (so [`ToolRun::forward`] reaches its caller).
    pub fn is_streaming(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.sink.is_some())
    }

    /// Sends `update` to the calling run's stream (when it streams). Returns `false` when the
    /// caller has dropped the stream: the run is being cancelled.
    pub async fn forward(&self, update: ChatResponseUpdate) -> bool {
        match self.inner.as_ref().and_then(|i| i.sink.as_ref()) {
            Some(sink) => sink.send(update).await.is_ok(),
            None => true,
        }
    }

    /// Adds tokens used by the tool to the calling run's usage.
    pub fn add_usage(&self, usage: Usage) {
        if let Some(inner) = &self.inner {
            *inner.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += usage;
        }
    }

    /// Ends the calling run with these approval requests (this call gets no result yet): the
    /// caller answers them, and the run that brings the answers calls the tool again, with the
    /// same call id and [`ToolRun::approval_answers`] set. Request ids must be unique within
    /// the call.
    pub fn request_approvals(&self, requests: Vec<ApprovalRequest>) {
        if let Some(inner) = &self.inner {
            inner.approvals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(requests);
        }
    }

    /// The caller's answers to the approvals this call asked for, when the run resumes it
    /// (ids as the tool gave them).
    pub fn approval_answers(&self) -> &[ApprovalResponse] {
        self.inner.as_ref().map_or(&[], |i| i.answers.as_slice())
    }

    /// What the tool reported.
    pub(crate) fn take_report(&self) -> ToolReport {
        let Some(inner) = &self.inner else { return ToolReport::default() };
        let usage =
            std::mem::take(&mut *inner.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let approvals =
            std::mem::take(&mut *inner.approvals.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        ToolReport { usage, approvals }
    }
}

/// A tool the model can call. Object safe: hold it as `Arc<dyn Tool>`.
#[async_trait]
pub trait Tool: Send + Sync + 'static {
    /// Name, description and parameter schema, as the model sees them.
    fn definition(&self) -> &ToolDefinition;

    /// Runs the tool with the model's arguments.
    async fn invoke(&self, arguments: Value, context: &ToolContext) -> Result<ToolOutput, ToolError>;

    /// Whether this call must be approved by the caller before it runs. Defaults to never.
    fn requires_approval(&self, _call: &FunctionCall) -> bool {
        false
    }
}

/// When a tool's calls need the caller's approval.
#[derive(Clone, Default)]
pub enum ApprovalMode {
    /// Calls run without asking.
    #[default]
    Never,
    /// Every call is held for approval.
    Always,
    /// Calls for which the predicate returns true are held for approval.
    When(Arc<dyn Fn(&FunctionCall) -> bool + Send + Sync>),
}

impl ApprovalMode {
    /// Approval decided per call by a predicate on the call.
    pub fn when(predicate: impl Fn(&FunctionCall) -> bool + Send + Sync + 'static) -> Self {
        ApprovalMode::When(Arc::new(predicate))
    }

    /// Whether `call` needs approval under this mode.
    pub fn requires_approval(&self, call: &FunctionCall) -> bool {
        match self {
            ApprovalMode::Never => false,
            ApprovalMode::Always => true,
            ApprovalMode::When(predicate) => predicate(call),
        }
    }
}

impl std::fmt::Debug for ApprovalMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ApprovalMode::Never => "Never",
            ApprovalMode::Always => "Always",
            ApprovalMode::When(_) => "When(..)",
        })
    }
}

type Handler<A> = Arc<dyn Fn(A) -> BoxFuture<'static, Result<ToolOutput, ToolError>> + Send + Sync>;

/// A tool made from a typed async function. The argument type's schema is what the model sees;
/// the model's arguments are validated against it and deserialized before the function runs.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use weft_core::tool::FunctionTool;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Weather { /// The city.
///     city: String }
///
/// let tool = FunctionTool::new("get_weather", "Get the weather for a city", |args: Weather| async move {
///     Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
/// });
/// ```
pub struct FunctionTool<A> {
    definition: ToolDefinition,
    validator: ArgumentValidator,
    handler: Handler<A>,
    approval: ApprovalMode,
    _args: PhantomData<fn(A)>,
}

impl<A> std::fmt::Debug for FunctionTool<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionTool")
            .field("definition", &self.definition)
            .field("approval", &self.approval)
            .finish()
    }
}

impl<A> FunctionTool<A>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
{
    /// A tool named `name` that runs `function`. The function returns any serializable value
    /// (strings reach the model as they are) or an error whose text the model is shown.
    pub fn new<F, Fut, R, E>(name: impl Into<String>, description: impl Into<String>, function: F) -> Self
    where
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize,
        E: std::fmt::Display,
    {
        let parameters = schema_for::<A>();
        let validator = ArgumentValidator::new(&parameters);
        let handler: Handler<A> = Arc::new(move |args: A| {
            let future = function(args);
            Box::pin(async move {
                match future.await {
                    Ok(value) => serde_json::to_value(value)
                        .map(ToolOutput::value)
                        .map_err(|e| ToolError::failed(format!("the tool's result is not JSON: {e}"))),
                    Err(error) => Err(ToolError::failed(error.to_string())),
                }
            })
        });
        Self {
            definition: ToolDefinition::new(name, description, parameters),
            validator,
            handler,
            approval: ApprovalMode::Never,
            _args: PhantomData,
        }
    }

    /// Sets when calls need the caller's approval.
    pub fn with_approval(mut self, approval: ApprovalMode) -> Self {
        self.approval = approval;
        self
    }

    /// Wraps the tool in an `Arc<dyn Tool>`.
    pub fn into_shared(self) -> Arc<dyn Tool> {
        Arc::new(self)
    }
}

#[async_trait]
impl<A> Tool for FunctionTool<A>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
{
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn invoke(&self, arguments: Value, _context: &ToolContext) -> Result<ToolOutput, ToolError> {
        if let Value::String(raw) = &arguments {
            return Err(ToolError::invalid_arguments(format!("the arguments are not a JSON object: {raw}")));
        }
        self.validator
            .validate(&arguments)
            .map_err(|e| ToolError::invalid_arguments(format!("invalid arguments: {e}")))?;
        let args: A = serde_json::from_value(arguments)
            .map_err(|e| ToolError::invalid_arguments(format!("invalid arguments: {e}")))?;
        (self.handler)(args).await
    }

    fn requires_approval(&self, call: &FunctionCall) -> bool {
        self.approval.requires_approval(call)
    }
}

/// Wraps any tool with an approval mode.
#[derive(Debug)]
pub struct WithApproval<T> {
    inner: T,
    approval: ApprovalMode,
}

impl<T: Tool> WithApproval<T> {
    /// `inner` with calls approved as `approval` says.
    pub fn new(inner: T, approval: ApprovalMode) -> Self {
        Self { inner, approval }
    }
}

#[async_trait]
impl<T: Tool> Tool for WithApproval<T> {
    fn definition(&self) -> &ToolDefinition {
        self.inner.definition()
    }

    async fn invoke(&self, arguments: Value, context: &ToolContext) -> Result<ToolOutput, ToolError> {
        self.inner.invoke(arguments, context).await
    }

    fn requires_approval(&self, call: &FunctionCall) -> bool {
        self.approval.requires_approval(call)
    }
}

/// A set of tools whose contents may change over time (for example an MCP server's tools,
/// reloaded when the server says they changed). The agent asks for the current tools before
/// every model turn.
pub trait ToolSet: Send + Sync + 'static {
    /// The tools as they are now.
    fn tools(&self) -> Vec<Arc<dyn Tool>>;
}

impl ToolSet for Vec<Arc<dyn Tool>> {
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.clone()
    }
}
