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
use weft_core::{ApprovalMode, FunctionCall, Tool, ToolContext, ToolDefinition, ToolError, ToolOutput};

type Function = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, ToolError>> + Send + Sync>;

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

/// Functions that `kind: function` tools bind to by name, and connections that
/// `kind: reference` connections name.
#[derive(Clone, Default)]
pub struct Bindings {
    functions: BTreeMap<String, Function>,
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
        f.debug_struct("Bindings")
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("connections", &self.connections)
            .finish()
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
