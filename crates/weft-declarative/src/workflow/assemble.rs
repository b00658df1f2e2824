//! Building a checked [`WorkflowPlan`] into a weft-workflow [`Workflow`]: connecting the agents'
//! MCP servers, opening the checkpoint store, and calling the same builders code calls.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use weft_core::{Agent, Message};
use weft_workflow::{
    AgentExecutor, Case, CheckpointStore, ConcurrentBuilder, FileCheckpointStore, GroupChatBuilder,
    GroupChatState, HandoffBuilder, InMemoryCheckpointStore, MagenticBuilder, SequentialBuilder,
    SpeakerSelector, SubWorkflow, Workflow, WorkflowBuilder,
};

use super::check::{EdgePlan, GraphPlan, NodeKind, Shape, StorePlan, WorkflowPlan};
use super::nodes::{FunctionNode, JoinNode, RequestNode};
use super::orchestration::OrchestrationPlan;
use crate::build::Plan;
use crate::error::{LoadError, Problem};

/// MCP sources connected while building (the caller closes them).
#[cfg(feature = "mcp")]
pub(crate) type Sources = Vec<weft_mcp::McpSource>;
/// Nothing to close without the `mcp` feature.
#[cfg(not(feature = "mcp"))]
pub(crate) type Sources = Vec<()>;

type Built<'a> = Pin<Box<dyn Future<Output = Result<Workflow, LoadError>> + Send + 'a>>;

/// Builds the plan; `store` (when given) replaces the file's checkpoint store.
pub(crate) fn build<'a>(
    plan: WorkflowPlan,
    store: Option<Arc<dyn CheckpointStore>>,
    sources: &'a mut Sources,
) -> Built<'a> {
    Box::pin(async move {
        let problem = |message: String| {
            LoadError::Invalid(vec![Problem {
                file: plan.file.clone(),
                line: plan.kind_at.line(),
                column: plan.kind_at.column(),
                message,
            }])
        };
        let store = match store {
            Some(store) => Some(store),
            None => open_store(&plan).await?,
        };
        let built = match plan.shape {
            Shape::Graph(graph) => build_graph(&plan.name, graph, store, sources).await?,
            Shape::Orchestration(orchestration) => {
                build_orchestration(*orchestration, store, sources).await?
            }
        };
        built.map_err(|error| problem(format!("the workflow could not be built: {error}")))
    })
}

async fn open_store(plan: &WorkflowPlan) -> Result<Option<Arc<dyn CheckpointStore>>, LoadError> {
    Ok(match &plan.store {
        StorePlan::None => None,
        StorePlan::Memory => Some(Arc::new(InMemoryCheckpointStore::new())),
        StorePlan::File(dir) => Some(Arc::new(FileCheckpointStore::new(dir.clone()))),
        #[cfg(feature = "sqlite")]
        StorePlan::Sqlite(path, at) => match weft_workflow::SqliteCheckpointStore::open(path).await {
            Ok(store) => Some(Arc::new(store)),
            Err(error) => {
                return Err(LoadError::Invalid(vec![Problem {
                    file: plan.file.clone(),
                    line: at.line(),
                    column: at.column(),
                    message: format!(
                        "could not open the SQLite checkpoint store {}: {error}",
                        path.display()
                    ),
                }]));
            }
        },
        #[cfg(not(feature = "sqlite"))]
        StorePlan::Sqlite(..) => None,
    })
}

async fn agent(plan: Plan, sources: &mut Sources) -> Result<Arc<dyn Agent>, LoadError> {
    let loaded = crate::finish(plan, |builder| builder).await?;
    #[cfg(feature = "mcp")]
    sources.extend(loaded.sources);
    #[cfg(not(feature = "mcp"))]
    let _ = sources;
    Ok(Arc::new(loaded.agent))
}

type BuildResult = Result<Workflow, Box<dyn std::error::Error + Send + Sync>>;

async fn build_graph(
    name: &str,
    graph: GraphPlan,
    store: Option<Arc<dyn CheckpointStore>>,
    sources: &mut Sources,
) -> Result<BuildResult, LoadError> {
    let mut builder = WorkflowBuilder::new().name(name).set_start(graph.start);
    if let Some(limit) = graph.max_supersteps {
        builder = builder.max_supersteps(limit);
    }
    for node in graph.nodes {
        let id = node.id;
        builder = match node.kind {
            NodeKind::Agent(plan) => {
                let agent = agent(*plan, sources).await?;
                builder.add_executor(AgentExecutor::new(agent).with_id(id).yield_messages(node.output))
            }
            NodeKind::Function(step) => builder.add_executor(FunctionNode { id, step, output: node.output }),
            NodeKind::Request(prompt) => {
                builder.add_executor(RequestNode { id, prompt, output: node.output })
            }
            NodeKind::Join => builder.add_executor(JoinNode { id }),
            NodeKind::Workflow(plan) => {
                // `SubWorkflow` runs the inner workflow on a store of its own: the inner
                // file's `checkpoint` is not opened.
                let unused: Arc<dyn CheckpointStore> = Arc::new(InMemoryCheckpointStore::new());
                let inner = build(*plan, Some(unused), sources).await?;
                match SubWorkflow::<Vec<Message>, Vec<Message>>::new(id, inner) {
                    Ok(sub) => builder.add_executor(sub.yield_outputs(node.output)),
                    Err(error) => return Ok(Err(Box::new(error))),
                }
            }
        };
    }
    for edge in graph.edges {
        builder = match edge {
            EdgePlan::Direct { from, to, condition: None } => builder.add_edge(from, to),
            EdgePlan::Direct { from, to, condition: Some(condition) } => {
                builder.add_edge_if(from, to, move |conversation: &Vec<Message>| condition(conversation))
            }
            EdgePlan::Switch { from, cases, default } => {
                let cases = cases
                    .into_iter()
                    .map(|(condition, to)| {
                        Case::new(move |conversation: &Vec<Message>| condition(conversation), to)
                    })
                    .collect();
                builder.add_switch(from, cases, default)
            }
            EdgePlan::FanOut { from, to } => builder.add_fan_out(from, to),
            EdgePlan::FanIn { from, to } => builder.add_fan_in(from, to),
        };
    }
    if let Some(store) = store {
        builder = builder.with_checkpoint_store(store);
    }
    Ok(builder.build().map_err(|e| Box::new(e) as _))
}

async fn build_orchestration(
    plan: OrchestrationPlan,
    store: Option<Arc<dyn CheckpointStore>>,
    sources: &mut Sources,
) -> Result<BuildResult, LoadError> {
    let mut agents = Vec::new();
    for participant in plan.participants {
        agents.push(agent(participant, sources).await?);
    }
    let manager = match plan.manager {
        Some(manager) => Some(agent(manager, sources).await?),
        None => None,
    };
    macro_rules! finish {
        ($builder:expr) => {{
            let mut builder = $builder.participants(agents);
            if let Some(store) = store {
                builder = builder.with_checkpoint_store(store);
            }
            builder.build()
        }};
    }
    let built = match plan.kind.as_str() {
        "sequential" => finish!(SequentialBuilder::new()),
        "concurrent" => {
            let mut builder = ConcurrentBuilder::new();
            if let Some(aggregate) = plan.aggregator {
                builder = builder.with_aggregator(move |results| aggregate(results));
            }
            finish!(builder)
        }
        "handoff" => {
            let mut builder = HandoffBuilder::new().with_human_input(plan.human_input);
            if let Some(start) = plan.start {
                builder = builder.start_with(start);
            }
            for (from, targets) in plan.handoffs {
                builder = builder.add_handoff(from, targets);
            }
            finish!(builder)
        }
        "group_chat" => {
            let mut builder = GroupChatBuilder::new();
            if let Some(manager) = manager {
                builder = builder.selector(SpeakerSelector::Agent(manager));
            }
            if let Some(rounds) = plan.max_rounds {
                builder = builder.max_rounds(rounds);
            }
            if let Some(condition) = plan.terminate {
                builder =
                    builder.terminate_when(move |state: &GroupChatState| condition(&state.conversation));
            }
            finish!(builder)
        }
        _ => {
            let mut builder = MagenticBuilder::new();
            if let Some(manager) = manager {
                builder = builder.manager(manager);
            }
            if let Some(rounds) = plan.max_rounds {
                builder = builder.max_rounds(rounds);
            }
            if let Some(stalls) = plan.max_stalls {
                builder = builder.max_stalls(stalls);
            }
            if let Some(resets) = plan.max_resets {
                builder = builder.max_resets(resets);
            }
            if plan.plan_review {
                builder = builder.with_plan_review();
            }
            finish!(builder)
        }
    };
    Ok(built.map_err(|e| Box::new(e) as _))
}
