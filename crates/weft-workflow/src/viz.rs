//! Diagrams of a built workflow: Mermaid flowcharts and Graphviz DOT.

use std::fmt::Write;

use crate::edges::EdgeKind;
use crate::workflow::Workflow;

fn mermaid_label(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn dot_label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Workflow {
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
