#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Build-time checks: each error names the executor and edge at fault.

use weft_workflow::{BuildError, Executor, FnExecutor, WorkflowBuilder, WorkflowContext};

fn ints(id: &'static str) -> impl Executor<Input = i64, Output = i64> {
    FnExecutor::new(id, |x: i64, ctx: WorkflowContext<i64>| async move {
        ctx.send_message(x);
        Ok(())
    })
}

fn text(id: &'static str) -> impl Executor<Input = String, Output = String> {
    FnExecutor::new(id, |x: String, ctx: WorkflowContext<String>| async move {
        ctx.send_message(x);
        Ok(())
    })
}

fn collect_ints(id: &'static str) -> impl Executor<Input = Vec<i64>, Output = ()> {
    FnExecutor::new(id, |xs: Vec<i64>, ctx: WorkflowContext<()>| async move {
        ctx.yield_output(xs);
        Ok(())
    })
}

#[test]
fn type_mismatch_names_edge_executors_and_types() {
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(text("b"))
        .add_edge("a", "b")
        .build()
        .unwrap_err();
    match &error {
        BuildError::TypeMismatch { edge, source_id, source_type, target_id, target_type } => {
            assert_eq!(edge, "a -> b");
            assert_eq!(source_id, "a");
            assert_eq!(source_type, "i64");
            assert_eq!(target_id, "b");
            assert_eq!(target_type, "alloc::string::String");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.to_string().contains("edge a -> b"), "{error}");
}

#[test]
fn fan_in_target_must_accept_a_vec_of_the_sources_type() {
    let ok = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(ints("b"))
        .add_executor(ints("c"))
        .add_executor(collect_ints("join"))
        .add_fan_out("a", ["b", "c"])
        .add_fan_in(["b", "c"], "join")
        .build();
    assert!(ok.is_ok());

    // The target takes i64, not Vec<i64>.
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(ints("b"))
        .add_executor(ints("join"))
        .add_edge("a", "b")
        .add_fan_in(["a", "b"], "join")
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, BuildError::TypeMismatch { edge, target_id, .. } if edge == "[a, b] -> join" && target_id == "join"),
        "{error:?}"
    );

    // One source sends the wrong type.
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(text("t"))
        .add_executor(collect_ints("join"))
        .add_fan_in(["a", "t"], "join")
        .build()
        .unwrap_err();
    assert!(matches!(&error, BuildError::TypeMismatch { source_id, .. } if source_id == "t"), "{error:?}");
}

#[test]
fn conditional_switch_and_fan_out_edges_are_type_checked() {
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(text("b"))
        .add_edge_if("a", "b", |x: &i64| *x > 0)
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, BuildError::TypeMismatch { edge, .. } if edge == "a -> b (conditional)"),
        "{error:?}"
    );

    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(ints("b"))
        .add_executor(text("c"))
        .add_fan_out("a", ["b", "c"])
        .build()
        .unwrap_err();
    assert!(matches!(&error, BuildError::TypeMismatch { target_id, .. } if target_id == "c"), "{error:?}");

    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(ints("b"))
        .add_executor(text("c"))
        .add_switch("a", vec![weft_workflow::Case::new(|x: &i64| *x > 0, "b")], "c")
        .build()
        .unwrap_err();
    assert!(matches!(&error, BuildError::TypeMismatch { target_id, .. } if target_id == "c"), "{error:?}");
}

#[test]
fn missing_or_unknown_start() {
    let error = WorkflowBuilder::new().add_executor(ints("a")).build().unwrap_err();
    assert_eq!(error, BuildError::MissingStart);
    let error = WorkflowBuilder::new().add_executor(ints("a")).set_start("nope").build().unwrap_err();
    assert!(matches!(&error, BuildError::UnknownExecutor { id, .. } if id == "nope"), "{error:?}");
}

#[test]
fn unreachable_executor_is_named() {
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(ints("b"))
        .add_executor(ints("island"))
        .add_edge("a", "b")
        .add_edge("island", "b")
        .build()
        .unwrap_err();
    assert_eq!(error, BuildError::Unreachable { id: "island".into(), start: "a".into() });
    assert!(error.to_string().contains("'island' is unreachable"));
}

#[test]
fn duplicate_ids_are_refused() {
    let error = WorkflowBuilder::new().start_with(ints("a")).add_executor(ints("a")).build().unwrap_err();
    assert_eq!(error, BuildError::DuplicateExecutor { id: "a".into() });
}

#[test]
fn edges_to_unknown_executors_name_the_edge() {
    let error = WorkflowBuilder::new().start_with(ints("a")).add_edge("a", "ghost").build().unwrap_err();
    match &error {
        BuildError::UnknownExecutor { id, context } => {
            assert_eq!(id, "ghost");
            assert_eq!(context, "edge a -> ghost");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn malformed_edges_are_refused() {
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_fan_out("a", Vec::<String>::new())
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::InvalidEdge { .. }), "{error:?}");
    let error = WorkflowBuilder::new()
        .start_with(ints("a"))
        .add_executor(collect_ints("join"))
        .add_fan_in(["a", "a"], "join")
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, BuildError::InvalidEdge { reason, .. } if reason.contains("twice")),
        "{error:?}"
    );
}
