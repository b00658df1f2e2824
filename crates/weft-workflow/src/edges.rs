//! Edges: how messages move from executor to executor, and how the engine routes them.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::message::{AnyMessage, WorkflowMessage};

/// A condition on a message, erased: `false` for messages of another type.
pub(crate) type Predicate = Arc<dyn Fn(&AnyMessage) -> bool + Send + Sync>;
/// Chooses fan-out targets for a message, erased.
pub(crate) type Selector = Arc<dyn Fn(&AnyMessage, &[String]) -> Vec<String> + Send + Sync>;

pub(crate) fn predicate<T: WorkflowMessage>(
    condition: impl Fn(&T) -> bool + Send + Sync + 'static,
) -> Predicate {
    Arc::new(move |message: &AnyMessage| message.get::<T>().is_some_and(&condition))
}

pub(crate) fn selector<T: WorkflowMessage>(
    select: impl Fn(&T, &[String]) -> Vec<String> + Send + Sync + 'static,
) -> Selector {
    Arc::new(move |message: &AnyMessage, targets: &[String]| match message.get::<T>() {
        Some(value) => select(value, targets),
        None => Vec::new(),
    })
}

/// One case of a switch: messages its condition accepts go to its target.
#[derive(Clone)]
pub struct Case {
    pub(crate) condition: Predicate,
    pub(crate) target: String,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case").field("target", &self.target).finish()
    }
}

impl Case {
    /// A case sending messages that satisfy `condition` to `target`.
    pub fn new<T: WorkflowMessage>(
        condition: impl Fn(&T) -> bool + Send + Sync + 'static,
        target: impl Into<String>,
    ) -> Self {
        Self { condition: predicate(condition), target: target.into() }
    }
}

/// A group of edges added by one builder call.
#[derive(Clone)]
pub(crate) enum EdgeKind {
    Direct { source: String, target: String, condition: Option<Predicate> },
    Switch { source: String, cases: Vec<Case>, default: String },
    FanOut { source: String, targets: Vec<String>, selector: Option<Selector> },
    FanIn { sources: Vec<String>, target: String, collect: Option<fn(Vec<AnyMessage>) -> AnyMessage> },
}

impl EdgeKind {
    /// The executors messages come from.
    pub(crate) fn sources(&self) -> Vec<&str> {
        match self {
            EdgeKind::Direct { source, .. }
            | EdgeKind::Switch { source, .. }
            | EdgeKind::FanOut { source, .. } => {
                vec![source.as_str()]
            }
            EdgeKind::FanIn { sources, .. } => sources.iter().map(String::as_str).collect(),
        }
    }

    /// The executors messages go to.
    pub(crate) fn targets(&self) -> Vec<&str> {
        match self {
            EdgeKind::Direct { target, .. } | EdgeKind::FanIn { target, .. } => vec![target.as_str()],
            EdgeKind::Switch { cases, default, .. } => {
                let mut targets: Vec<&str> = cases.iter().map(|c| c.target.as_str()).collect();
                if !targets.contains(&default.as_str()) {
                    targets.push(default);
                }
                targets
            }
            EdgeKind::FanOut { targets, .. } => targets.iter().map(String::as_str).collect(),
        }
    }

    /// The edge as errors and checkpoints name it: `a -> b`, `a -> [b, c]`, `[a, b] -> c`.
    pub(crate) fn describe(&self) -> String {
        match self {
            EdgeKind::Direct { source, target, condition } => {
                let suffix = if condition.is_some() { " (conditional)" } else { "" };
                format!("{source} -> {target}{suffix}")
            }
            EdgeKind::Switch { source, .. } => format!("{source} -> switch [{}]", self.targets().join(", ")),
            EdgeKind::FanOut { source, targets, .. } => format!("{source} -> [{}]", targets.join(", ")),
            EdgeKind::FanIn { sources, target, .. } => format!("[{}] -> {target}", sources.join(", ")),
        }
    }
}

/// Messages waiting at fan-in edges: per edge, per source, in arrival order.
pub(crate) type FanInBuffers = BTreeMap<usize, Vec<Vec<AnyMessage>>>;

/// Routes one message `source` sent along edge group `index`. Deliveries are appended to `out`
/// in a deterministic order. Returns whether the group leads to `only_to` (when set).
pub(crate) fn route(
    index: usize,
    kind: &EdgeKind,
    source: &str,
    message: &AnyMessage,
    only_to: Option<&str>,
    buffers: &mut FanInBuffers,
    out: &mut Vec<(String, AnyMessage)>,
) -> bool {
    let allowed = |target: &str| only_to.is_none_or(|only| only == target);
    let leads_there = only_to.is_none_or(|only| kind.targets().contains(&only));
    match kind {
        EdgeKind::Direct { target, condition, .. } => {
            if allowed(target) && condition.as_ref().is_none_or(|c| c(message)) {
                out.push((target.clone(), message.clone()));
            }
        }
        EdgeKind::Switch { cases, default, .. } => {
            let chosen =
                cases.iter().find(|case| (case.condition)(message)).map_or(default, |case| &case.target);
            if allowed(chosen) {
                out.push((chosen.clone(), message.clone()));
            }
        }
        EdgeKind::FanOut { targets, selector, .. } => {
            let selected = selector.as_ref().map(|select| select(message, targets));
            for target in targets {
                let picked = selected.as_ref().is_none_or(|s| s.contains(target));
                if picked && allowed(target) {
                    out.push((target.clone(), message.clone()));
                }
            }
        }
        EdgeKind::FanIn { sources, target, collect } => {
            if !allowed(target) {
                return leads_there;
            }
            let Some(position) = sources.iter().position(|s| s == source) else { return leads_there };
            let buffer = buffers.entry(index).or_insert_with(|| vec![Vec::new(); sources.len()]);
            if let Some(slot) = buffer.get_mut(position) {
                slot.push(message.clone());
            }
            let complete = buffer.iter().all(|slot| !slot.is_empty());
            if let (true, Some(collect)) = (complete, collect) {
                let joined: Vec<AnyMessage> = buffer.iter_mut().flat_map(std::mem::take).collect();
                buffers.remove(&index);
                out.push((target.clone(), collect(joined)));
            }
        }
    }
    leads_there
}
