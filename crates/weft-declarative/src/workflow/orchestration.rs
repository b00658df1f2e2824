//! Checking an `orchestration:` workflow: its participants, and the options its builder takes.

use std::collections::HashMap;
use std::path::Path;

use serde_saphyr::Location;

use super::check::{Context, agent, at_location, condition};
use super::spec::{ORCHESTRATIONS, WorkflowSpec};
use crate::bindings::{Aggregator, Condition};
use crate::build::{Plan, closest};
use crate::env::Checker;
use crate::spec::Text;

/// A checked orchestration, ready to build.
pub(crate) struct OrchestrationPlan {
    pub(crate) kind: String,
    pub(crate) participants: Vec<Plan>,
    pub(crate) manager: Option<Plan>,
    pub(crate) start: Option<String>,
    pub(crate) handoffs: Vec<(String, Vec<String>)>,
    pub(crate) human_input: bool,
    pub(crate) max_rounds: Option<usize>,
    pub(crate) terminate: Option<Condition>,
    pub(crate) aggregator: Option<Aggregator>,
    pub(crate) max_stalls: Option<usize>,
    pub(crate) max_resets: Option<usize>,
    pub(crate) plan_review: bool,
}

pub(super) fn orchestration(
    spec: &WorkflowSpec,
    kind: &Text,
    dir: &Path,
    checker: &mut Checker<'_>,
    context: &mut Context<'_>,
) -> Option<OrchestrationPlan> {
    let name = kind.value.as_str();
    if !ORCHESTRATIONS.contains(&name) {
        let hint = closest(name, ORCHESTRATIONS);
        checker.at(
            kind,
            format!("unknown orchestration `{name}`{hint}: expected {}", ORCHESTRATIONS.join(", ")),
        );
        return None;
    }
    let graph_only = [
        ("executors", !spec.executors.is_empty()),
        ("edges", !spec.edges.is_empty()),
        ("outputs", !spec.outputs.is_empty()),
        ("maxSupersteps", spec.max_supersteps.is_some()),
    ];
    let applies: &[&str] = match name {
        "concurrent" => &["aggregator"],
        "group_chat" => &["manager", "maxRounds", "terminate"],
        "handoff" => &["start", "handoffs", "humanInput"],
        "magentic" => &["manager", "maxRounds", "maxStalls", "maxResets", "planReview"],
        _ => &[],
    };
    let options = [
        ("manager", spec.manager.is_some()),
        ("maxRounds", spec.max_rounds.is_some()),
        ("terminate", spec.terminate.is_some()),
        ("aggregator", spec.aggregator.is_some()),
        ("maxStalls", spec.max_stalls.is_some()),
        ("maxResets", spec.max_resets.is_some()),
        ("planReview", spec.plan_review.is_some()),
        ("start", spec.start.is_some()),
        ("handoffs", !spec.handoffs.is_empty()),
        ("humanInput", spec.human_input.is_some()),
    ];
    for (field, _) in graph_only.iter().filter(|(_, given)| *given) {
        checker.at(kind, format!("`{field}` does not apply to an orchestration (it builds its own graph)"));
    }
    for (field, _) in options.iter().filter(|(field, given)| *given && !applies.contains(field)) {
        checker.at(kind, format!("`{field}` does not apply to orchestration `{name}`"));
    }
    if spec.participants.is_empty() {
        checker
            .at(kind, format!("orchestration `{name}` needs `participants` (agent files or inline agents)"));
        return None;
    }
    let mut participants = Vec::new();
    let mut names: HashMap<String, Location> = HashMap::new();
    for reference in &spec.participants {
        let Some(plan) = agent(reference, dir, checker, context) else { continue };
        match &plan.name {
            None => at_location(
                checker,
                reference.at,
                "a participant needs a `name` (it is its id in the orchestration)",
            ),
            Some(agent_name) => {
                if names.insert(agent_name.clone(), reference.at).is_some() {
                    at_location(checker, reference.at, format!("two participants are named `{agent_name}`"));
                }
            }
        }
        participants.push(plan);
    }
    let known = |name: &Text, checker: &mut Checker<'_>| -> bool {
        if names.contains_key(&name.value) {
            return true;
        }
        let hint = closest(&name.value, names.keys().map(String::as_str));
        checker.at(name, format!("no participant is named `{}`{hint}", name.value));
        false
    };
    let start = spec.start.as_ref().filter(|s| known(s, checker)).map(|s| s.value.clone());
    let mut handoffs = Vec::new();
    for (from, targets) in &spec.handoffs {
        if !names.contains_key(from) {
            let hint = closest(from, names.keys().map(String::as_str));
            checker.at(kind, format!("handoffs: no participant is named `{from}`{hint}"));
        }
        let targets: Vec<String> =
            targets.iter().filter(|t| known(t, checker)).map(|t| t.value.clone()).collect();
        handoffs.push((from.clone(), targets));
    }
    let manager = match &spec.manager {
        Some(reference) => agent(reference, dir, checker, context),
        None if name == "magentic" => {
            checker.at(kind, "orchestration `magentic` needs a `manager` agent");
            None
        }
        None => None,
    };
    let terminate = match spec.terminate.as_ref().filter(|_| name == "group_chat") {
        None => None,
        Some(terminate) => {
            match condition(terminate.when.as_ref(), terminate.predicate.as_ref(), checker, context.bindings)
            {
                Some(Some(condition)) => Some(condition),
                Some(None) => {
                    checker.at(
                        kind,
                        "`terminate` needs `when` (an expression) or `predicate` (a registered condition)",
                    );
                    None
                }
                None => None,
            }
        }
    };
    let aggregator = spec
        .aggregator
        .as_ref()
        .filter(|_| name == "concurrent")
        .and_then(|aggregator| bound_aggregator(aggregator, checker, context));
    Some(OrchestrationPlan {
        kind: name.to_string(),
        participants,
        manager,
        start,
        handoffs,
        human_input: spec.human_input.unwrap_or(false),
        max_rounds: spec.max_rounds,
        terminate,
        aggregator,
        max_stalls: spec.max_stalls,
        max_resets: spec.max_resets,
        plan_review: spec.plan_review.unwrap_or(false),
    })
}

/// The aggregator registered as `name`, or a problem naming the registered ones.
fn bound_aggregator(name: &Text, checker: &mut Checker<'_>, context: &Context<'_>) -> Option<Aggregator> {
    if let Some(aggregator) = context.bindings.get_aggregator(&name.value) {
        return Some(aggregator);
    }
    let hint = closest(&name.value, context.bindings.aggregator_names());
    let known: Vec<&str> = context.bindings.aggregator_names().collect();
    checker.at(
        name,
        format!(
            "no aggregator named `{}` is bound{hint}; registered: {}",
            name.value,
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ),
    );
    None
}
