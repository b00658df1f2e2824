//! Diagrams of a built workflow: Mermaid flowcharts, Graphviz DOT, and the graph as data
//! ([`WorkflowGraph`], for a client that draws it itself).

use std::fmt::Write;

use crate::edges::EdgeKind;
use crate::workflow::Workflow;

fn mermaid_label(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn dot_label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The shape of a workflow as data (serializable), with the same nodes and edges as
/// [`Workflow::to_mermaid`]: one node per executor, one `fan_in` node per fan-in edge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkflowGraph {
    /// The workflow's name.
    pub name: String,
    /// The start executor's id.
    pub start: String,
    /// The nodes, executors first (in the order they were added).
    pub nodes: Vec<GraphNode>,
    /// The edges.
    pub edges: Vec<GraphEdge>,
}

/// A node of a [`WorkflowGraph`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GraphNode {
    /// The executor's id (or `__joinN` for a fan-in's join).
    pub id: String,
    /// `executor` or `fan_in`.
    pub kind: String,
}

/// An edge of a [`WorkflowGraph`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GraphEdge {
    /// Where it starts.
    pub source: String,
    /// Where it goes.
    pub target: String,
    /// `conditional`, `selected`, `case N`, `default`, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Workflow {
    /// The workflow's graph as data.
    pub fn graph(&self) -> WorkflowGraph {
        let inner = &self.inner;
        let mut nodes: Vec<GraphNode> = inner
            .executors
            .iter()
            .map(|e| GraphNode { id: e.id().to_string(), kind: "executor".into() })
            .collect();
        let mut edges = Vec::new();
        let mut edge = |source: &str, target: &str, label: Option<String>| {
            edges.push(GraphEdge { source: source.to_string(), target: target.to_string(), label });
        };
        for (e, kind) in inner.edges.iter().enumerate() {
            match kind {
                EdgeKind::Direct { source, target, condition } => {
                    edge(source, target, condition.as_ref().map(|_| "conditional".to_string()));
                }
                EdgeKind::Switch { source, cases, default } => {
                    for (c, case) in cases.iter().enumerate() {
                        edge(source, &case.target, Some(format!("case {c}")));
                    }
                    edge(source, default, Some("default".into()));
                }
                EdgeKind::FanOut { source, targets, selector } => {
                    for target in targets {
                        edge(source, target, selector.as_ref().map(|_| "selected".to_string()));
                    }
                }
                EdgeKind::FanIn { sources, target, .. } => {
                    let join = format!("__join{e}");
                    nodes.push(GraphNode { id: join.clone(), kind: "fan_in".into() });
                    for source in sources {
                        edge(source, &join, None);
                    }
                    edge(&join, target, None);
                }
            }
        }
        WorkflowGraph { name: inner.name.clone(), start: self.start_id().to_string(), nodes, edges }
    }

    /// The workflow as a Mermaid flowchart. Executors are nodes `n0`, `n1`, … labelled with
    /// their ids (the start is marked); conditional edges are dotted, switch edges labelled
    /// `case N` / `default`, and each fan-in is drawn through a join node.
    pub fn to_mermaid(&self) -> String {
        let inner = &self.inner;
        let node = |id: &str| inner.index.get(id).map_or_else(|| "unknown".to_string(), |i| format!("n{i}"));
        let mut out = String::from("flowchart TD\n");
        for (i, executor) in inner.executors.iter().enumerate() {
            let label = mermaid_label(executor.id());
            if i == inner.start {
                let _ = writeln!(out, "  n{i}[\"{label} (start)\"];");
            } else {
                let _ = writeln!(out, "  n{i}[\"{label}\"];");
            }
        }
        for (e, edge) in inner.edges.iter().enumerate() {
            match edge {
                EdgeKind::Direct { source, target, condition } => {
                    let arrow = if condition.is_some() { "-. conditional .->" } else { "-->" };
                    let _ = writeln!(out, "  {} {arrow} {};", node(source), node(target));
                }
                EdgeKind::Switch { source, cases, default } => {
                    for (c, case) in cases.iter().enumerate() {
                        let _ =
                            writeln!(out, "  {} -- \"case {c}\" --> {};", node(source), node(&case.target));
                    }
                    let _ = writeln!(out, "  {} -- \"default\" --> {};", node(source), node(default));
                }
                EdgeKind::FanOut { source, targets, selector } => {
                    let arrow = if selector.is_some() { "-. selected .->" } else { "-->" };
                    for target in targets {
                        let _ = writeln!(out, "  {} {arrow} {};", node(source), node(target));
                    }
                }
                EdgeKind::FanIn { sources, target, .. } => {
                    let _ = writeln!(out, "  join{e}((\"fan-in\"));");
                    for source in sources {
                        let _ = writeln!(out, "  {} --> join{e};", node(source));
                    }
                    let _ = writeln!(out, "  join{e} --> {};", node(target));
                }
            }
        }
        out
    }

    /// The workflow as a Graphviz DOT digraph (same shapes as [`Workflow::to_mermaid`]).
    pub fn to_dot(&self) -> String {
        let inner = &self.inner;
        let node = |id: &str| format!("\"{}\"", dot_label(id));
        let mut out =
            format!("digraph \"{}\" {{\n  rankdir=TD;\n  node [shape=box];\n", dot_label(&inner.name));
        for (i, executor) in inner.executors.iter().enumerate() {
            let style = if i == inner.start { " style=filled fillcolor=lightblue" } else { "" };
            let _ = writeln!(out, "  {} [label={}{style}];", node(executor.id()), node(executor.id()));
        }
        for (e, edge) in inner.edges.iter().enumerate() {
            match edge {
                EdgeKind::Direct { source, target, condition } => {
                    let style =
                        if condition.is_some() { " [style=dashed label=\"conditional\"]" } else { "" };
                    let _ = writeln!(out, "  {} -> {}{style};", node(source), node(target));
                }
                EdgeKind::Switch { source, cases, default } => {
                    for (c, case) in cases.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "  {} -> {} [label=\"case {c}\"];",
                            node(source),
                            node(&case.target)
                        );
                    }
                    let _ = writeln!(out, "  {} -> {} [label=\"default\"];", node(source), node(default));
                }
                EdgeKind::FanOut { source, targets, selector } => {
                    let style = if selector.is_some() { " [style=dashed label=\"selected\"]" } else { "" };
                    for target in targets {
                        let _ = writeln!(out, "  {} -> {}{style};", node(source), node(target));
                    }
                }
                EdgeKind::FanIn { sources, target, .. } => {
                    let _ = writeln!(out, "  \"__join{e}\" [shape=circle label=\"fan-in\"];");
                    for source in sources {
                        let _ = writeln!(out, "  {} -> \"__join{e}\";", node(source));
                    }
                    let _ = writeln!(out, "  \"__join{e}\" -> {};", node(target));
                }
            }
        }
        out.push_str("}\n");
        out
    }
}
