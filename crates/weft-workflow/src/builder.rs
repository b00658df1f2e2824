//! Building a workflow: executors, edges, and the checks made before it can run.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use crate::checkpoint::{CheckpointStore, Migration};
use crate::edges::{Case, EdgeKind, predicate, selector};
use crate::error::{BoxError, BuildError};
use crate::executor::{Erased, ErasedExecutor, Executor};
use crate::message::{MessageNames, MessageType, WorkflowMessage};
use crate::workflow::{Workflow, WorkflowInner};

/// The default limit on supersteps in one run.
pub const DEFAULT_MAX_SUPERSTEPS: u64 = 1_000;

/// Connects executors with edges and checks the graph.
///
/// ```
/// use weft_workflow::{FnExecutor, WorkflowBuilder, WorkflowContext};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let double = FnExecutor::new("double", |x: i64, ctx: WorkflowContext<i64>| async move {
///     ctx.send_message(x * 2);
///     Ok(())
/// });
/// let report = FnExecutor::new("report", |x: i64, ctx: WorkflowContext<()>| async move {
///     ctx.yield_output(x);
///     Ok(())
/// });
/// let workflow = WorkflowBuilder::new()
///     .start_with(double)
///     .add_executor(report)
///     .add_edge("double", "report")
///     .build()?;
/// let result = workflow.run(21_i64).await?;
/// assert_eq!(result.outputs_as::<i64>(), vec![42]);
/// # Ok(()) }
/// ```
pub struct WorkflowBuilder {
    name: String,
    executors: Vec<Arc<dyn ErasedExecutor>>,
    start: Option<String>,
    edges: Vec<EdgeKind>,
    max_supersteps: u64,
    store: Option<Arc<dyn CheckpointStore>>,
    names: MessageNames,
    /// Types registered with [`WorkflowBuilder::message`] (known to checkpoints even when no
    /// edge carries them, e.g. requests and answers).
    registered: Vec<MessageType>,
    /// The first name registration that failed, reported by `build`.
    name_error: Option<BuildError>,
    version: u32,
    migrations: BTreeMap<u32, Migration>,
}

impl Default for WorkflowBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for WorkflowBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowBuilder")
            .field("name", &self.name)
            .field("executors", &self.executors.iter().map(|e| e.id()).collect::<Vec<_>>())
            .field("start", &self.start)
            .field("edges", &self.edges.iter().map(EdgeKind::describe).collect::<Vec<_>>())
            .finish()
    }
}

impl WorkflowBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            name: "workflow".into(),
            executors: Vec::new(),
            start: None,
            edges: Vec::new(),
            max_supersteps: DEFAULT_MAX_SUPERSTEPS,
            store: None,
            names: MessageNames::default(),
            registered: Vec::new(),
            name_error: None,
            version: 0,
            migrations: BTreeMap::new(),
        }
        .builtin_messages()
    }

    /// Weft's own request types, under names of their own.
    fn builtin_messages(self) -> Self {
        use crate::orchestration::{HandoffUserRequest, PlanReview, PlanReviewRequest};
        self.message::<crate::AgentApprovalRequest>(crate::agent::AGENT_APPROVAL_REQUEST)
            .message::<HandoffUserRequest>("weft.HandoffUserRequest")
            .message::<PlanReviewRequest>("weft.PlanReviewRequest")
            .message::<PlanReview>("weft.PlanReview")
            .message::<weft_core::ApprovalResponse>("weft.ApprovalResponse")
            // What agents and orchestrations pass (declarative workflows are made of them).
            // A workflow may register these under names of its own instead.
            .message::<weft_core::Message>("weft.Message")
            .message::<weft_core::agent::AgentResponse>("weft.AgentResponse")
            .message::<String>("weft.String")
            .builtins_done()
    }

    /// Marks the names registered so far as Weft's defaults, which the workflow's own
    /// registrations replace.
    fn builtins_done(mut self) -> Self {
        self.names.mark_builtin();
        self
    }

    /// Registers `T` under a stable `name` (and `Vec<T>`, what a fan-in of `T` delivers, as
    /// `Vec<name>`). Checkpoints and pending requests call the type by this name, so they load
    /// in another build or process that registers the same name — for the same or another Rust
    /// type with the same JSON form. A type not registered is called by its
    /// `std::any::type_name`, which may change between builds. Register the types on the
    /// workflow's edges, and the request and answer types of
    /// [`crate::WorkflowContext::request_info`]. A name used for two types, or two names for
    /// one type, fail the build ([`BuildError::MessageName`]).
    pub fn message<T: WorkflowMessage>(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        let list = format!("Vec<{name}>");
        for (message_type, name) in
            [(MessageType::of::<T>(), name.as_str()), (MessageType::of::<Vec<T>>(), &list)]
        {
            if let Err(reason) = self.names.insert(&message_type, name) {
                self.name_error.get_or_insert(BuildError::MessageName { name: name.to_string(), reason });
            }
            self.registered.push(message_type);
        }
        self
    }

    /// The version of this workflow's own checkpoint contents (default 0), written into every
    /// checkpoint as `workflow_version`. Raise it when a change to the workflow makes older
    /// checkpoints unfit (a message's shape, an executor's snapshot, an executor id), and
    /// register a [`WorkflowBuilder::checkpoint_migration`] from each older version.
    pub fn checkpoint_version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// Upgrades a checkpoint written with `workflow_version` `from` to `from + 1`, as JSON
    /// (the whole checkpoint, already in the current format with stable message names). On
    /// resume, the migrations from the checkpoint's version up to
    /// [`WorkflowBuilder::checkpoint_version`] run in turn; a missing one fails the resume
    /// ([`crate::CheckpointError::NoMigration`]).
    pub fn checkpoint_migration(
        mut self,
        from: u32,
        migrate: impl Fn(Value) -> Result<Value, BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.migrations.insert(from, Arc::new(migrate));
        self
    }

    /// Names the workflow (shown in diagrams and checkpoints).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds an executor. Executors added earlier run (and route their messages) first within a
    /// superstep's deterministic order.
    pub fn add_executor(mut self, executor: impl Executor) -> Self {
        self.executors.push(Arc::new(Erased(executor)));
        self
    }

    /// Sets the executor that receives the run's input.
    pub fn set_start(mut self, id: impl Into<String>) -> Self {
        self.start = Some(id.into());
        self
    }

    /// Adds an executor and makes it the start.
    pub fn start_with(self, executor: impl Executor) -> Self {
        let id = executor.id().to_string();
        self.add_executor(executor).set_start(id)
    }

    /// Every message `source` sends goes to `target`.
    pub fn add_edge(mut self, source: impl Into<String>, target: impl Into<String>) -> Self {
        self.edges.push(EdgeKind::Direct { source: source.into(), target: target.into(), condition: None });
        self
    }

    /// Messages `source` sends go to `target` when `condition` holds for them.
    pub fn add_edge_if<T: WorkflowMessage>(
        mut self,
        source: impl Into<String>,
        target: impl Into<String>,
        condition: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.edges.push(EdgeKind::Direct {
            source: source.into(),
            target: target.into(),
            condition: Some(predicate(condition)),
        });
        self
    }

    /// Each message `source` sends goes to the target of the first case that accepts it, or to
    /// `default` when none does.
    pub fn add_switch(
        mut self,
        source: impl Into<String>,
        cases: Vec<Case>,
        default: impl Into<String>,
    ) -> Self {
        self.edges.push(EdgeKind::Switch { source: source.into(), cases, default: default.into() });
        self
    }

    /// Each message `source` sends goes to every target, in the order given.
    pub fn add_fan_out<S: Into<String>>(
        mut self,
        source: impl Into<String>,
        targets: impl IntoIterator<Item = S>,
    ) -> Self {
        let targets = targets.into_iter().map(Into::into).collect();
        self.edges.push(EdgeKind::FanOut { source: source.into(), targets, selector: None });
        self
    }

    /// Each message `source` sends goes to the targets `select` picks for it (from the targets
    /// given, which it receives; ids it returns that are not among them are ignored).
    pub fn add_fan_out_with<T: WorkflowMessage, S: Into<String>>(
        mut self,
        source: impl Into<String>,
        targets: impl IntoIterator<Item = S>,
        select: impl Fn(&T, &[String]) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        let targets = targets.into_iter().map(Into::into).collect();
        self.edges.push(EdgeKind::FanOut {
            source: source.into(),
            targets,
            selector: Some(selector(select)),
        });
        self
    }

    /// Joins `sources`: once each of them has sent at least one message, `target` receives all
    /// of their messages as one `Vec<T>` (in the order of `sources`, then of sending).
    pub fn add_fan_in<S: Into<String>>(
        mut self,
        sources: impl IntoIterator<Item = S>,
        target: impl Into<String>,
    ) -> Self {
        let sources = sources.into_iter().map(Into::into).collect();
        self.edges.push(EdgeKind::FanIn { sources, target: target.into(), collect: None });
        self
    }

    /// The most supersteps one run may take before it fails (default
    /// [`DEFAULT_MAX_SUPERSTEPS`]).
    pub fn max_supersteps(mut self, limit: u64) -> Self {
        self.max_supersteps = limit.max(1);
        self
    }

    /// Saves a checkpoint to `store` before the first superstep and after every superstep.
    pub fn with_checkpoint_store(mut self, store: Arc<dyn CheckpointStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Checks the graph and builds the workflow.
    pub fn build(mut self) -> Result<Workflow, BuildError> {
        if let Some(error) = self.name_error.take() {
            return Err(error);
        }
        let mut index = HashMap::new();
        for (position, executor) in self.executors.iter().enumerate() {
            if index.insert(executor.id().to_string(), position).is_some() {
                return Err(BuildError::DuplicateExecutor { id: executor.id().to_string() });
            }
        }
        let start_id = self.start.clone().ok_or(BuildError::MissingStart)?;
        let start = *index.get(&start_id).ok_or_else(|| BuildError::UnknownExecutor {
            id: start_id.clone(),
            context: "the start".into(),
        })?;
        let executors = &self.executors;
        for edge in &mut self.edges {
            check_edge(edge, &index, executors)?;
        }
        let mut outgoing = vec![Vec::new(); self.executors.len()];
        for (position, edge) in self.edges.iter().enumerate() {
            for source in edge.sources() {
                if let Some(&i) = index.get(source) {
                    outgoing[i].push(position);
                }
            }
        }
        check_reachable(start, &self.executors, &self.edges, &index)?;
        let mut types: HashMap<String, MessageType> = HashMap::new();
        let carried = self.executors.iter().flat_map(|e| [e.input_type(), e.output_type()]);
        for message_type in self.registered.iter().copied().chain(carried) {
            let name = self.names.of_type(&message_type);
            if let Some(other) = types.get(&name) {
                if other.id != message_type.id {
                    return Err(BuildError::MessageName {
                        name,
                        reason: format!("it names both {} and {}", other.name, message_type.name),
                    });
                }
            }
            types.insert(name, message_type);
        }
        Ok(Workflow::from_inner(WorkflowInner {
            name: self.name,
            executors: self.executors,
            index,
            start,
            edges: self.edges,
            outgoing,
            types,
            names: Arc::new(self.names),
            max_supersteps: self.max_supersteps,
            store: self.store,
            version: self.version,
            migrations: self.migrations,
            budget: None,
        }))
    }
}

fn check_edge(
    edge: &mut EdgeKind,
    index: &HashMap<String, usize>,
    executors: &[Arc<dyn ErasedExecutor>],
) -> Result<(), BuildError> {
    let name = edge.describe();
    let invalid = |reason: &str| BuildError::InvalidEdge { edge: name.clone(), reason: reason.into() };
    let sources = edge.sources();
    let targets = edge.targets();
    if sources.is_empty() {
        return Err(invalid("it has no source executors"));
    }
    if targets.is_empty() {
        return Err(invalid("it has no target executors"));
    }
    let lookup = |id: &str| {
        index.get(id).map(|&i| &executors[i]).ok_or_else(|| BuildError::UnknownExecutor {
            id: id.to_string(),
            context: format!("edge {name}"),
        })
    };
    let mismatch = |source: &dyn ErasedExecutor, target: &dyn ErasedExecutor| BuildError::TypeMismatch {
        edge: name.clone(),
        source_id: source.id().to_string(),
        source_type: source.output_type().name.to_string(),
        target_id: target.id().to_string(),
        target_type: target.input_type().name.to_string(),
    };
    let fan_in = matches!(edge, EdgeKind::FanIn { .. });
    let mut seen = HashSet::new();
    for source in &sources {
        if fan_in && !seen.insert(*source) {
            return Err(invalid(&format!("source '{source}' is listed twice")));
        }
    }
    let mut collect = None;
    for source_id in &sources {
        let source = lookup(source_id)?;
        let sent = source.output_type();
        for target_id in &targets {
            let target = lookup(target_id)?;
            let accepted = target.input_type();
            let fits = if fan_in { accepted.id == sent.vec_id } else { accepted.id == sent.id };
            if !fits {
                return Err(mismatch(source.as_ref(), target.as_ref()));
            }
        }
        collect = Some(sent.collect_vec);
    }
    if let EdgeKind::FanIn { collect: slot, .. } = edge {
        *slot = collect;
    }
    Ok(())
}

fn check_reachable(
    start: usize,
    executors: &[Arc<dyn ErasedExecutor>],
    edges: &[EdgeKind],
    index: &HashMap<String, usize>,
) -> Result<(), BuildError> {
    let mut reached = vec![false; executors.len()];
    reached[start] = true;
    let mut queue = VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        let id = executors[current].id();
        for edge in edges.iter().filter(|e| e.sources().contains(&id)) {
            for target in edge.targets() {
                if let Some(&t) = index.get(target) {
                    if !reached[t] {
                        reached[t] = true;
                        queue.push_back(t);
                    }
                }
            }
        }
    }
    match reached.iter().position(|r| !r) {
        Some(unreached) => Err(BuildError::Unreachable {
            id: executors[unreached].id().to_string(),
            start: executors[start].id().to_string(),
        }),
        None => Ok(()),
    }
}
