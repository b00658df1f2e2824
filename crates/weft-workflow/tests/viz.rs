#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Mermaid and DOT export.

use weft_workflow::{Case, Executor, FnExecutor, WorkflowBuilder, WorkflowContext};

fn pass(id: &'static str) -> impl Executor<Input = i64, Output = i64> {
    FnExecutor::new(id, |x: i64, ctx: WorkflowContext<i64>| async move {
        ctx.send_message(x);
        Ok(())
    })
}

#[test]
fn diagrams_show_every_edge_kind() {
    let workflow = WorkflowBuilder::new()
        .name("shapes")
        .start_with(pass("start"))
        .add_executor(pass("b"))
        .add_executor(pass("c"))
        .add_executor(pass("d"))
        .add_executor(FnExecutor::new("join", |xs: Vec<i64>, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(xs);
            Ok(())
        }))
        .add_fan_out("start", ["b", "c"])
        .add_edge_if("b", "d", |x: &i64| *x > 0)
        .add_switch("c", vec![Case::new(|x: &i64| *x > 0, "d")], "d")
        .add_fan_in(["b", "d"], "join")
        .build()
        .unwrap();
    let mermaid = workflow.to_mermaid();
    let expected = "flowchart TD
  n0[\"start (start)\"];
  n1[\"b\"];
  n2[\"c\"];
  n3[\"d\"];
  n4[\"join\"];
  n0 --> n1;
  n0 --> n2;
  n1 -. conditional .-> n3;
  n2 -- \"case 0\" --> n3;
  n2 -- \"default\" --> n3;
  join3((\"fan-in\"));
  n1 --> join3;
  n3 --> join3;
  join3 --> n4;
";
    assert_eq!(mermaid, expected);
    let dot = workflow.to_dot();
    assert!(dot.starts_with("digraph \"shapes\" {"));
    assert!(dot.contains("\"start\" [label=\"start\" style=filled fillcolor=lightblue];"));
    assert!(dot.contains("\"b\" -> \"d\" [style=dashed label=\"conditional\"];"));
    assert!(dot.contains("\"c\" -> \"d\" [label=\"case 0\"];"));
    assert!(dot.contains("\"d\" -> \"__join3\";"));
    assert!(dot.contains("\"__join3\" -> \"join\";"));
    assert!(dot.trim_end().ends_with('}'));
}
