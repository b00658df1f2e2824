//! The registry of Rust functions (and named connections) a declarative file refers to by name.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use weft_core::schema::ArgumentValidator;
use weft_core::{
    ApprovalMode, FunctionCall, Message, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput,
};

type Function = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, ToolError>> + Send + Sync>;
/// A workflow step: the conversation in, the conversation to send on out.
pub(crate) type Step =
    Arc<dyn Fn(Vec<Message>) -> BoxFuture<'static, Result<Vec<Message>, String>> + Send + Sync>;
/// A workflow edge condition over the conversation.
pub(crate) type Condition = Arc<dyn Fn(&[Message]) -> bool + Send + Sync>;
/// A `concurrent` orchestration's aggregator: the participants' results in, the output out.
#[cfg(feature = "workflow")]
pub(crate) type Aggregator = Arc<dyn Fn(Vec<weft_workflow::ParticipantResult>) -> Vec<Message> + Send + Sync>;

/// A named connection for `connection: {kind: reference, name: …}`.
#[derive(Clone, Default)]
pub struct NamedConnection {
    /// The endpoint (base URL).
    pub endpoint: Option<String>,
    /// The API key.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for NamedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedConnection")
            .field("endpoint", &self.endpoint)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Functions that `kind: function` tools bind to by name, connections that
/// `kind: reference` connections name, and, for workflow files, the functions that
/// `function:` executors name, the conditions that `predicate:` edges (and a group chat's
/// `terminate`) name, and the aggregators a `concurrent` orchestration's `aggregator` names.
#[derive(Clone, Default)]
pub struct Bindings {
    functions: BTreeMap<String, Function>,
    steps: BTreeMap<String, Step>,
    conditions: BTreeMap<String, Condition>,
    #[cfg(feature = "workflow")]
    aggregators: BTreeMap<String, Aggregator>,
    connections: BTreeMap<String, NamedConnection>,
    approval: ApprovalMode,
}

impl Bindings {
    /// Calls of every bound function need approval under `mode` (default: never).
    pub fn with_approval(mut self, mode: ApprovalMode) -> Self {
        self.approval = mode;
        self
    }

    pub(crate) fn approval(&self) -> ApprovalMode {
        self.approval.clone()
    }

    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `function` as `name`. Its arguments are deserialized from the model's JSON
    /// arguments (after they were checked against the file's `parameters`); its result is sent
    /// back as JSON; its error as the tool's error text.
    pub fn function<A, F, Fut, R, E>(mut self, name: impl Into<String>, function: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize,
        E: Display,
    {
        let function = Arc::new(function);
        let erased: Function = Arc::new(move |arguments: Value| {
            let function = function.clone();
            async move {
                let args: A = serde_json::from_value(arguments)
                    .map_err(|e| ToolError::invalid_arguments(format!("invalid arguments: {e}")))?;
                let result = function(args).await.map_err(|e| ToolError::failed(e.to_string()))?;
                serde_json::to_value(result)
                    .map_err(|e| ToolError::failed(format!("unserializable result: {e}")))
            }
            .boxed()
        });
        self.functions.insert(name.into(), erased);
        self
    }

    /// Registers `step` as the workflow executor `name` (`function: name` in a workflow file):
    /// it receives the conversation that reached it and returns the conversation to send on;
    /// its error fails the run.
    pub fn executor<F, Fut, E>(mut self, name: impl Into<String>, step: F) -> Self
    where
        F: Fn(Vec<Message>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Message>, E>> + Send + 'static,
        E: Display,
    {
        let step = Arc::new(step);
        let erased: Step = Arc::new(move |conversation: Vec<Message>| {
            let step = step.clone();
            async move { step(conversation).await.map_err(|e| e.to_string()) }.boxed()
        });
        self.steps.insert(name.into(), erased);
        self
    }

    /// Registers `condition` as the edge condition `name` (`predicate: name` in a workflow
    /// file): it sees the conversation the edge carries.
    pub fn predicate(
        mut self,
        name: impl Into<String>,
        condition: impl Fn(&[Message]) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.conditions.insert(name.into(), Arc::new(condition));
        self
    }

    /// Registers `aggregate` as the aggregator `name` (`aggregator: name` in a `concurrent`
    /// orchestration): it receives what each participant added, in the order of the
    /// `participants`, and returns the workflow's output.
    #[cfg(feature = "workflow")]
    pub fn aggregator(
        mut self,
        name: impl Into<String>,
        aggregate: impl Fn(Vec<weft_workflow::ParticipantResult>) -> Vec<Message> + Send + Sync + 'static,
    ) -> Self {
        self.aggregators.insert(name.into(), Arc::new(aggregate));
        self
    }

    /// The registered aggregator names, sorted.
    #[cfg(feature = "workflow")]
    pub fn aggregator_names(&self) -> impl Iterator<Item = &str> {
        self.aggregators.keys().map(String::as_str)
    }

    #[cfg(feature = "workflow")]
    pub(crate) fn get_aggregator(&self, name: &str) -> Option<Aggregator> {
        self.aggregators.get(name).cloned()
    }

    /// The registered workflow executor names, sorted.
    pub fn executor_names(&self) -> impl Iterator<Item = &str> {
        self.steps.keys().map(String::as_str)
    }

    /// The registered predicate names, sorted.
    pub fn predicate_names(&self) -> impl Iterator<Item = &str> {
        self.conditions.keys().map(String::as_str)
    }

    #[cfg_attr(not(feature = "workflow"), allow(dead_code))]
    pub(crate) fn get_step(&self, name: &str) -> Option<Step> {
        self.steps.get(name).cloned()
    }

    #[cfg_attr(not(feature = "workflow"), allow(dead_code))]
    pub(crate) fn get_condition(&self, name: &str) -> Option<Condition> {
        self.conditions.get(name).cloned()
    }

    /// Registers a connection for `connection: {kind: reference, name}`.
    pub fn connection(mut self, name: impl Into<String>, connection: NamedConnection) -> Self {
        self.connections.insert(name.into(), connection);
        self
    }

    /// The registered function names, sorted.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }

    pub(crate) fn get_function(&self, name: &str) -> Option<Function> {
        self.functions.get(name).cloned()
    }

    pub(crate) fn get_connection(&self, name: &str) -> Option<&NamedConnection> {
        self.connections.get(name)
    }
}

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Bindings");
        debug
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("executors", &self.steps.keys().collect::<Vec<_>>())
            .field("predicates", &self.conditions.keys().collect::<Vec<_>>());
        #[cfg(feature = "workflow")]
        debug.field("aggregators", &self.aggregators.keys().collect::<Vec<_>>());
        debug.field("connections", &self.connections).finish()
    }
}

/// A `kind: function` tool: the file's name, description and parameters, the binding's code.
pub(crate) struct BoundTool {
    pub(crate) definition: ToolDefinition,
    pub(crate) validator: ArgumentValidator,
    pub(crate) function: Function,
    pub(crate) approval: ApprovalMode,
}

#[async_trait]
impl Tool for BoundTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn invoke(&self, arguments: Value, _context: &ToolContext) -> Result<ToolOutput, ToolError> {
        self.validator
            .validate(&arguments)
            .map_err(|e| ToolError::invalid_arguments(format!("invalid arguments: {e}")))?;
        (self.function)(arguments).await.map(ToolOutput::value)
    }

    fn requires_approval(&self, call: &FunctionCall) -> bool {
        self.approval.requires_approval(call)
    }
}
