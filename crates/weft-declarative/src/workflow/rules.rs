//! Graph rules checked before building: every executor reachable, no endless cycle.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use super::check::{EdgePlan, at_location};
use super::spec::WorkflowSpec;
use crate::env::Checker;

/// Every executor must be reachable from the start.
pub(super) fn reachable(start: &str, spec: &WorkflowSpec, edges: &[EdgePlan], checker: &mut Checker<'_>) {
    let mut reached: HashSet<&str> = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        for edge in edges.iter().filter(|e| e.sources().contains(&current)) {
            for target in edge.targets() {
                if reached.insert(target) {
                    queue.push_back(target);
                }
            }
        }
    }
    for executor in &spec.executors {
        if !reached.contains(executor.id.value.as_str()) {
            checker.at(
                &executor.id,
                format!(
                    "executor `{}` is unreachable: no edge leads to it from the start `{start}`",
                    executor.id.value
                ),
            );
        }
    }
}

/// A cycle made only of unconditional edges never ends (until the superstep limit): each
/// executor always sends, so the messages go round for ever.
pub(super) fn endless_cycle(edges: &[EdgePlan], spec: &WorkflowSpec, checker: &mut Checker<'_>) {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for edge in edges.iter().filter(|e| e.unconditional()) {
        for source in edge.sources() {
            next.entry(source).or_default().extend(edge.targets());
        }
    }
    // Depth-first search with colours: 1 = on the current path, 2 = done.
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        colour: &mut HashMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        colour.insert(node, 1);
        path.push(node);
        for &target in next.get(node).map(Vec::as_slice).unwrap_or_default() {
            match colour.get(target) {
                Some(1) => {
                    let begin = path.iter().position(|n| *n == target).unwrap_or(0);
                    let mut cycle = path[begin..].to_vec();
                    cycle.push(target);
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(target, next, colour, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        colour.insert(node, 2);
        None
    }
    let mut colour = HashMap::new();
    for &node in next.keys() {
        if colour.contains_key(node) {
            continue;
        }
        if let Some(cycle) = visit(node, &next, &mut colour, &mut Vec::new()) {
            let shown: Vec<&str> = cycle.iter().map(|n| n.strip_suffix(".join").unwrap_or(n)).collect();
            let at = spec
                .edges
                .iter()
                .find(|e| e.from.names.iter().any(|n| n.value == cycle[0]))
                .and_then(|e| e.from.names.first());
            let message = format!(
                "the edges {} form a cycle with no condition, which never ends: make one of them conditional",
                shown.join(" -> ")
            );
            match at {
                Some(at) => checker.at(at, message),
                None => at_location(checker, spec.kind.referenced, message),
            }
            return;
        }
    }
}
