//! Checking a workflow file: every name resolved, every executor reachable, no endless cycle;
//! the result is a [`WorkflowPlan`] that needs no more checks to build.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_saphyr::Location;

use super::expr;
use super::orchestration::OrchestrationPlan;
use super::spec::{AgentRef, AgentSource, CaseSpec, EdgeSpec, ExecutorSpec, WorkflowSpec};
use crate::bindings::{Bindings, Condition, Step};
use crate::build::{LoadOptions, Plan, closest};
use crate::env::Checker;
use crate::error::{LoadError, Problem};
use crate::spec::Text;

/// A checked workflow file, ready to build.
pub(crate) struct WorkflowPlan {
    pub(crate) file: PathBuf,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) kind_at: Location,
    pub(crate) store: StorePlan,
    pub(crate) shape: Shape,
}

/// A graph or an orchestration.
pub(crate) enum Shape {
    Graph(GraphPlan),
    Orchestration(Box<OrchestrationPlan>),
}

/// Where checkpoints go.
pub(crate) enum StorePlan {
    None,
    Memory,
    File(PathBuf),
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite(PathBuf, Location),
}

pub(crate) struct GraphPlan {
    pub(crate) nodes: Vec<NodePlan>,
    pub(crate) edges: Vec<EdgePlan>,
    pub(crate) start: String,
    pub(crate) max_supersteps: Option<u64>,
}

pub(crate) enum NodeKind {
    Agent(Box<Plan>),
    Function(Step),
    Request(String),
    Workflow(Box<WorkflowPlan>),
    Join,
}

pub(crate) struct NodePlan {
    pub(crate) id: String,
    pub(crate) kind: NodeKind,
    pub(crate) output: bool,
}

pub(crate) enum EdgePlan {
    Direct { from: String, to: String, condition: Option<Condition> },
    Switch { from: String, cases: Vec<(Condition, String)>, default: String },
    FanOut { from: String, to: Vec<String> },
    FanIn { from: Vec<String>, to: String },
}

impl EdgePlan {
    pub(super) fn sources(&self) -> Vec<&str> {
        match self {
            EdgePlan::Direct { from, .. } | EdgePlan::Switch { from, .. } | EdgePlan::FanOut { from, .. } => {
                vec![from]
            }
            EdgePlan::FanIn { from, .. } => from.iter().map(String::as_str).collect(),
        }
    }

    pub(super) fn targets(&self) -> Vec<&str> {
        match self {
            EdgePlan::Direct { to, .. } | EdgePlan::FanIn { to, .. } => vec![to],
            EdgePlan::Switch { cases, default, .. } => {
                cases.iter().map(|(_, to)| to.as_str()).chain([default.as_str()]).collect()
            }
            EdgePlan::FanOut { to, .. } => to.iter().map(String::as_str).collect(),
        }
    }

    /// Whether every message from the sources goes to every target.
    pub(super) fn unconditional(&self) -> bool {
        match self {
            EdgePlan::Direct { condition, .. } => condition.is_none(),
            EdgePlan::Switch { .. } => false,
            EdgePlan::FanOut { .. } | EdgePlan::FanIn { .. } => true,
        }
    }
}

/// What checking needs besides the file: the bindings, the agents' load options, and the
/// workflow files being checked (to catch a file that includes itself).
pub(crate) struct Context<'a> {
    pub(crate) bindings: &'a Bindings,
    pub(crate) options: &'a LoadOptions,
    pub(crate) stack: Vec<PathBuf>,
}

pub(super) fn at_location(checker: &mut Checker<'_>, at: Location, message: impl Into<String>) {
    checker.problems.push(Problem {
        file: checker.file.to_path_buf(),
        line: at.line(),
        column: at.column(),
        message: message.into(),
    });
}

/// Checks a parsed workflow file. `dir` is where relative paths start.
pub(crate) fn plan(
    spec: &WorkflowSpec,
    source: &str,
    file: &Path,
    dir: &Path,
    context: &mut Context<'_>,
) -> Result<WorkflowPlan, LoadError> {
    let mut checker = Checker::with_source(file, source);
    if spec.kind.value != "Workflow" {
        let hint = closest(&spec.kind.value, ["Workflow"]);
        checker.at(
            &spec.kind,
            format!("unknown workflow kind `{}`{hint}: expected `Workflow`", spec.kind.value),
        );
    }
    let store = store(spec.checkpoint.as_ref(), dir, &mut checker);
    let name = spec.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| "workflow".into());
    let shape = match &spec.orchestration {
        Some(kind) => super::orchestration::orchestration(spec, kind, dir, &mut checker, context)
            .map(|o| Shape::Orchestration(Box::new(o))),
        None => graph(spec, dir, &mut checker, context).map(Shape::Graph),
    };
    match shape {
        Some(shape) if checker.problems.is_empty() => Ok(WorkflowPlan {
            file: file.to_path_buf(),
            name,
            description: spec.description.clone(),
            kind_at: spec.kind.referenced,
            store,
            shape,
        }),
        _ => {
            let mut problems = checker.problems;
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            Err(LoadError::Invalid(problems))
        }
    }
}

fn store(checkpoint: Option<&Text>, dir: &Path, checker: &mut Checker<'_>) -> StorePlan {
    let Some(text) = checkpoint else { return StorePlan::None };
    let value = text.value.trim();
    if value == "memory" {
        return StorePlan::Memory;
    }
    if let Some(path) = value.strip_prefix("file:").filter(|p| !p.is_empty()) {
        return StorePlan::File(dir.join(path));
    }
    if let Some(path) = value.strip_prefix("sqlite:").filter(|p| !p.is_empty()) {
        if cfg!(feature = "sqlite") {
            return StorePlan::Sqlite(dir.join(path), text.referenced);
        }
        checker.at(text, "`sqlite:` checkpoints are not available: weft-declarative was built without its `sqlite` feature");
        return StorePlan::None;
    }
    let word = value.split(':').next().unwrap_or(value);
    let hint = closest(word, ["memory", "file", "sqlite"]);
    checker.at(
        text,
        format!("unknown checkpoint store `{value}`{hint}: expected `memory`, `file:DIR` or `sqlite:PATH`"),
    );
    StorePlan::None
}

/// An agent by path (checked as an agent file; its problems name that file) or inline.
pub(super) fn agent(
    reference: &AgentRef,
    dir: &Path,
    checker: &mut Checker<'_>,
    context: &Context<'_>,
) -> Option<Plan> {
    match &reference.source {
        AgentSource::Inline(spec) => crate::build::plan(spec, checker, context.bindings, context.options),
        AgentSource::Path(path) => {
            let full = dir.join(path);
            if !full.is_file() {
                at_location(checker, reference.at, format!("no agent file at `{}`", full.display()));
                return None;
            }
            match crate::plan_file_with(&full, context.bindings, context.options) {
                Ok(plan) => Some(plan),
                Err(error) => {
                    checker.problems.extend(error.problems());
                    None
                }
            }
        }
    }
}

pub(super) fn condition(
    when: Option<&Text>,
    predicate: Option<&Text>,
    checker: &mut Checker<'_>,
    bindings: &Bindings,
) -> Option<Option<Condition>> {
    match (when, predicate) {
        (None, None) => Some(None),
        (Some(_), Some(predicate)) => {
            checker.at(predicate, "give `when` or `predicate`, not both");
            None
        }
        (Some(when), None) => match expr::parse(&when.value) {
            Ok(expression) => Some(Some(Arc::new(move |conversation: &[weft_core::Message]| {
                expression.holds(conversation)
            }))),
            Err(error) => {
                checker.inside(when, error.offset, format!("in the condition: {}", error.message));
                None
            }
        },
        (None, Some(name)) => match bindings.get_condition(&name.value) {
            Some(condition) => Some(Some(condition)),
            None => {
                let hint = closest(&name.value, bindings.predicate_names());
                let known: Vec<&str> = bindings.predicate_names().collect();
                checker.at(
                    name,
                    format!(
                        "no predicate named `{}` is bound{hint}; registered: {}",
                        name.value,
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                );
                None
            }
        },
    }
}

fn graph(
    spec: &WorkflowSpec,
    dir: &Path,
    checker: &mut Checker<'_>,
    context: &mut Context<'_>,
) -> Option<GraphPlan> {
    let orchestration_only = [
        ("participants", !spec.participants.is_empty()),
        ("manager", spec.manager.is_some()),
        ("maxRounds", spec.max_rounds.is_some()),
        ("terminate", spec.terminate.is_some()),
        ("aggregator", spec.aggregator.is_some()),
        ("maxStalls", spec.max_stalls.is_some()),
        ("maxResets", spec.max_resets.is_some()),
        ("planReview", spec.plan_review.is_some()),
        ("handoffs", !spec.handoffs.is_empty()),
        ("humanInput", spec.human_input.is_some()),
    ];
    for (field, _) in orchestration_only.iter().filter(|(_, given)| *given) {
        checker.at(
            &spec.kind,
            format!("`{field}` needs an `orchestration`; a graph workflow has `executors` and `edges`"),
        );
    }
    if spec.executors.is_empty() {
        checker.at(&spec.kind, "a workflow needs `executors` (or an `orchestration` with `participants`)");
        return None;
    }
    let mut ids: HashMap<String, Location> = HashMap::new();
    for executor in &spec.executors {
        if ids.insert(executor.id.value.clone(), executor.id.referenced).is_some() {
            checker.at(&executor.id, format!("executor `{}` is defined twice", executor.id.value));
        }
    }
    let known = |name: &Text, checker: &mut Checker<'_>| -> bool {
        if ids.contains_key(&name.value) {
            return true;
        }
        let hint = closest(&name.value, ids.keys().map(String::as_str));
        let mut all: Vec<&str> = ids.keys().map(String::as_str).collect();
        all.sort_unstable();
        checker.at(
            name,
            format!("unknown executor `{}`{hint}; the executors are {}", name.value, all.join(", ")),
        );
        false
    };
    let start = match &spec.start {
        Some(start) => known(start, checker).then(|| start.value.clone()),
        None => Some(spec.executors[0].id.value.clone()),
    };
    let mut edges = Vec::new();
    let mut joins: Vec<NodePlan> = Vec::new();
    for edge in &spec.edges {
        edge_plan(edge, checker, context.bindings, &known, &mut edges, &mut joins, &ids);
    }
    let outputs: HashSet<String> = if spec.outputs.is_empty() {
        let sources: HashSet<&str> = edges.iter().flat_map(EdgePlan::sources).collect();
        spec.executors
            .iter()
            .map(|e| e.id.value.clone())
            .filter(|id| !sources.contains(id.as_str()))
            .collect()
    } else {
        spec.outputs.iter().filter(|o| known(o, checker)).map(|o| o.value.clone()).collect()
    };
    let mut nodes = Vec::new();
    for executor in &spec.executors {
        let output = outputs.contains(&executor.id.value);
        if let Some(kind) = node(executor, dir, checker, context) {
            nodes.push(NodePlan { id: executor.id.value.clone(), kind, output });
        }
    }
    nodes.extend(joins);
    let start = start?;
    if !checker.problems.is_empty() {
        return None;
    }
    super::rules::reachable(&start, spec, &edges, checker);
    super::rules::endless_cycle(&edges, spec, checker);
    Some(GraphPlan { nodes, edges, start, max_supersteps: spec.max_supersteps })
}

fn node(
    executor: &ExecutorSpec,
    dir: &Path,
    checker: &mut Checker<'_>,
    context: &mut Context<'_>,
) -> Option<NodeKind> {
    let given = [
        executor.agent.is_some(),
        executor.function.is_some(),
        executor.workflow.is_some(),
        executor.request.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        checker.at(
            &executor.id,
            format!(
                "executor `{}` needs exactly one of `agent`, `function`, `workflow` or `request`",
                executor.id.value
            ),
        );
        return None;
    }
    if let Some(reference) = &executor.agent {
        return agent(reference, dir, checker, context).map(|plan| NodeKind::Agent(Box::new(plan)));
    }
    if let Some(name) = &executor.function {
        return match context.bindings.get_step(&name.value) {
            Some(step) => Some(NodeKind::Function(step)),
            None => {
                let hint = closest(&name.value, context.bindings.executor_names());
                let known: Vec<&str> = context.bindings.executor_names().collect();
                checker.at(
                    name,
                    format!(
                        "no executor function named `{}` is bound{hint}; registered: {}",
                        name.value,
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                );
                None
            }
        };
    }
    if let Some(prompt) = &executor.request {
        return Some(NodeKind::Request(prompt.value.clone()));
    }
    let path = executor.workflow.as_ref()?;
    let full = dir.join(&path.value);
    let canonical = full.canonicalize().unwrap_or_else(|_| full.clone());
    if context.stack.contains(&canonical) {
        checker.at(path, format!("`{}` includes itself (a cycle of sub-workflows)", path.value));
        return None;
    }
    if !full.is_file() {
        checker.at(path, format!("no workflow file at `{}`", full.display()));
        return None;
    }
    context.stack.push(canonical);
    let inner = super::plan_file(&full, context);
    context.stack.pop();
    match inner {
        Ok(plan) => Some(NodeKind::Workflow(Box::new(plan))),
        Err(error) => {
            checker.problems.extend(error.problems());
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn edge_plan(
    edge: &EdgeSpec,
    checker: &mut Checker<'_>,
    bindings: &Bindings,
    known: &dyn Fn(&Text, &mut Checker<'_>) -> bool,
    edges: &mut Vec<EdgePlan>,
    joins: &mut Vec<NodePlan>,
    ids: &HashMap<String, Location>,
) {
    let from = &edge.from.names;
    let Some(first) = from.first() else {
        at_location(checker, edge.from.at, "an edge needs a `from`: this list names none");
        return;
    };
    // Every name is checked (each unknown one is a problem), so no short-circuit.
    let all_known = from.iter().map(|name| known(name, checker)).filter(|ok| !ok).count() == 0;
    if !edge.switch.is_empty() {
        if edge.to.is_some() || edge.when.is_some() || edge.predicate.is_some() || edge.from.list {
            checker.at(first, "a `switch` edge has one `from`, its `switch` cases and a `default`; no `to`, `when` or `predicate`");
            return;
        }
        let Some(default) = &edge.default else {
            checker.at(first, "a `switch` edge needs a `default` target");
            return;
        };
        let mut cases = Vec::new();
        let mut ok = known(default, checker) && all_known;
        for CaseSpec { when, predicate, to } in &edge.switch {
            ok &= known(to, checker);
            match condition(when.as_ref(), predicate.as_ref(), checker, bindings) {
                Some(Some(condition)) => cases.push((condition, to.value.clone())),
                Some(None) => {
                    checker.at(to, "a switch case needs `when` or `predicate`");
                    ok = false;
                }
                None => ok = false,
            }
        }
        if ok {
            edges.push(EdgePlan::Switch { from: first.value.clone(), cases, default: default.value.clone() });
        }
        return;
    }
    if edge.default.is_some() {
        checker.at(first, "`default` belongs to a `switch` edge");
        return;
    }
    let Some(to) = &edge.to else {
        checker.at(first, "an edge needs `to` (or `switch` cases)");
        return;
    };
    if to.names.is_empty() {
        at_location(checker, to.at, "an edge needs a `to`: this list names none");
        return;
    }
    let targets_known = to.names.iter().map(|name| known(name, checker)).filter(|ok| !ok).count() == 0;
    let conditional = edge.when.is_some() || edge.predicate.is_some();
    let Some(condition) = condition(edge.when.as_ref(), edge.predicate.as_ref(), checker, bindings) else {
        return;
    };
    if !(all_known && targets_known) {
        return;
    }
    let names = |list: &[Text]| list.iter().map(|n| n.value.clone()).collect::<Vec<_>>();
    match (edge.from.list, to.list) {
        (true, true) => checker.at(first, "an edge joins several sources into one target (fan-in) or sends one source to several targets (fan-out), not both"),
        (true, false) => {
            if conditional {
                checker.at(first, "a fan-in edge takes no condition");
                return;
            }
            let target = to.names[0].value.clone();
            let mut id = format!("{target}.join");
            let mut n = 1;
            while ids.contains_key(&id) || joins.iter().any(|j| j.id == id) {
                n += 1;
                id = format!("{target}.join{n}");
            }
            edges.push(EdgePlan::FanIn { from: names(from), to: id.clone() });
            edges.push(EdgePlan::Direct { from: id.clone(), to: target, condition: None });
            joins.push(NodePlan { id, kind: NodeKind::Join, output: false });
        }
        (false, true) => {
            if conditional {
                checker.at(first, "a fan-out edge takes no condition: write one conditional edge per target");
                return;
            }
            edges.push(EdgePlan::FanOut { from: first.value.clone(), to: names(&to.names) });
        }
        (false, false) => edges.push(EdgePlan::Direct { from: first.value.clone(), to: to.names[0].value.clone(), condition }),
    }
}
