#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The superstep engine: ordering, routing, fan-out/fan-in, failure, concurrency, streaming.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use weft_workflow::{
    BoxError, Case, Executor, FnExecutor, RunStatus, WorkflowBuilder, WorkflowContext, WorkflowError,
    WorkflowEvent,
};

type Log = Arc<Mutex<Vec<(String, u64, String)>>>;

/// Records (executor, superstep, message) and forwards the message with its id appended.
fn recorder(id: &'static str, log: &Log) -> impl Executor<Input = String, Output = String> {
    let log = log.clone();
    FnExecutor::new(id, move |text: String, ctx: WorkflowContext<String>| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push((id.to_string(), ctx.superstep(), text.clone()));
            ctx.send_message(format!("{text}>{id}"));
            Ok(())
        }
    })
}

fn sink(id: &'static str) -> impl Executor<Input = String, Output = ()> {
    FnExecutor::new(id, |text: String, ctx: WorkflowContext<()>| async move {
        ctx.yield_output(text);
        Ok(())
    })
}

#[tokio::test]
async fn messages_sent_in_superstep_n_arrive_in_n_plus_1_in_deterministic_order() {
    let log = Log::default();
    // a fans out to b and c; b -> d, c -> d; d's two messages arrive in superstep 3, b's first.
    let workflow = WorkflowBuilder::new()
        .start_with(recorder("a", &log))
        .add_executor(recorder("b", &log))
        .add_executor(recorder("c", &log))
        .add_executor(recorder("d", &log))
        .add_executor(sink("out"))
        .add_fan_out("a", ["c", "b"])
        .add_edge("b", "d")
        .add_edge("c", "d")
        .add_edge("d", "out")
        .build()
        .unwrap();
    for _ in 0..3 {
        log.lock().unwrap().clear();
        let result = workflow.run("x".to_string()).await.unwrap();
        assert_eq!(result.status, RunStatus::Idle);
        let entries = log.lock().unwrap().clone();
        let steps: Vec<(&str, u64)> = entries.iter().map(|(id, step, _)| (id.as_str(), *step)).collect();
        // Within superstep 2, b runs before c because it was added first; d gets b's message first.
        assert_eq!(steps, vec![("a", 1), ("b", 2), ("c", 2), ("d", 3), ("d", 3)]);
        assert_eq!(entries[3].2, "x>a>b");
        assert_eq!(entries[4].2, "x>a>c");
        assert_eq!(result.outputs_as::<String>(), vec!["x>a>b>d".to_string(), "x>a>c>d".to_string()]);
        let supersteps: Vec<u64> = result
            .events
            .iter()
            .filter_map(|e| match e {
                WorkflowEvent::SuperstepCompleted { superstep } => Some(*superstep),
                _ => None,
            })
            .collect();
        assert_eq!(supersteps, vec![1, 2, 3, 4]);
        let invoked: Vec<(String, u64)> = result
            .events
            .iter()
            .filter_map(|e| match e {
                WorkflowEvent::ExecutorInvoked { executor_id, superstep } => {
                    Some((executor_id.clone(), *superstep))
                }
                _ => None,
            })
            .collect();
        assert_eq!(invoked.last(), Some(&("out".to_string(), 4)));
    }
}

#[tokio::test]
async fn fan_in_waits_for_every_source_and_delivers_in_source_order() {
    let slow = FnExecutor::new("slow", |x: i64, ctx: WorkflowContext<i64>| async move {
        // Arrives at the join one superstep later than `fast`.
        ctx.send_message(x);
        Ok(())
    });
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("split", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(FnExecutor::new("fast", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x * 10);
            Ok(())
        }))
        .add_executor(FnExecutor::new("hop", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x + 1);
            Ok(())
        }))
        .add_executor(slow)
        .add_executor(FnExecutor::new("join", |xs: Vec<i64>, ctx: WorkflowContext<()>| async move {
            ctx.yield_output((ctx.superstep(), xs));
            Ok(())
        }))
        .add_fan_out("split", ["fast", "hop"])
        .add_edge("hop", "slow")
        .add_fan_in(["slow", "fast"], "join")
        .build()
        .unwrap();
    let result = workflow.run(2_i64).await.unwrap();
    // slow listed first, so its message comes first although fast delivered a superstep earlier.
    assert_eq!(result.outputs_as::<(u64, Vec<i64>)>(), vec![(4, vec![3, 20])]);
}

#[tokio::test]
async fn fan_out_selector_picks_targets_per_message() {
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("numbers", |n: i64, ctx: WorkflowContext<i64>| async move {
            for i in 0..n {
                ctx.send_message(i);
            }
            Ok(())
        }))
        .add_executor(FnExecutor::new("even", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("even {x}"));
            Ok(())
        }))
        .add_executor(FnExecutor::new("odd", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("odd {x}"));
            Ok(())
        }))
        .add_fan_out_with("numbers", ["even", "odd"], |x: &i64, targets: &[String]| {
            vec![targets[usize::from(x % 2 == 1)].clone()]
        })
        .build()
        .unwrap();
    let result = workflow.run(4_i64).await.unwrap();
    // Executors run in the order they were added: even's invocations first.
    assert_eq!(result.outputs_as::<String>(), vec!["even 0", "even 2", "odd 1", "odd 3"]);
}

fn classify() -> WorkflowBuilder {
    let label = |id: &'static str| {
        FnExecutor::new(id, move |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("{id}:{x}"));
            Ok(())
        })
    };
    WorkflowBuilder::new()
        .start_with(FnExecutor::new("in", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(label("negative"))
        .add_executor(label("small"))
        .add_executor(label("large"))
}

#[tokio::test]
async fn conditional_edges_route_on_the_message() {
    let workflow = classify()
        .add_edge_if("in", "negative", |x: &i64| *x < 0)
        .add_edge_if("in", "small", |x: &i64| (0..10).contains(x))
        .add_edge_if("in", "large", |x: &i64| *x >= 5)
        .build()
        .unwrap();
    assert_eq!(workflow.run(-3_i64).await.unwrap().outputs_as::<String>(), vec!["negative:-3"]);
    assert_eq!(workflow.run(7_i64).await.unwrap().outputs_as::<String>(), vec!["small:7", "large:7"]);
    assert_eq!(workflow.run(70_i64).await.unwrap().outputs_as::<String>(), vec!["large:70"]);
}

#[tokio::test]
async fn switch_takes_the_first_matching_case_or_the_default() {
    let workflow = classify()
        .add_switch(
            "in",
            vec![Case::new(|x: &i64| *x < 0, "negative"), Case::new(|x: &i64| *x < 10, "small")],
            "large",
        )
        .build()
        .unwrap();
    assert_eq!(workflow.run(-3_i64).await.unwrap().outputs_as::<String>(), vec!["negative:-3"]);
    assert_eq!(workflow.run(7_i64).await.unwrap().outputs_as::<String>(), vec!["small:7"]);
    assert_eq!(workflow.run(70_i64).await.unwrap().outputs_as::<String>(), vec!["large:70"]);
}

#[tokio::test]
async fn send_message_to_targets_one_edge_and_fails_without_one() {
    let workflow = classify().add_fan_out("in", ["negative", "small", "large"]).build().unwrap();
    assert_eq!(workflow.run(1_i64).await.unwrap().outputs.len(), 3);

    let targeted = WorkflowBuilder::new()
        .start_with(FnExecutor::new("in", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message_to(if x > 0 { "large" } else { "nowhere" }, x);
            Ok(())
        }))
        .add_executor(FnExecutor::new("small", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("small:{x}"));
            Ok(())
        }))
        .add_executor(FnExecutor::new("large", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(format!("large:{x}"));
            Ok(())
        }))
        .add_fan_out("in", ["small", "large"])
        .build()
        .unwrap();
    assert_eq!(targeted.run(5_i64).await.unwrap().outputs_as::<String>(), vec!["large:5"]);
    let failed = targeted.run(-5_i64).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(
        matches!(&**failed.error().unwrap(), WorkflowError::NoEdge { target, .. } if target == "nowhere")
    );
}

#[derive(Debug)]
struct Broken;
impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the disk is on fire")
    }
}
impl std::error::Error for Broken {}

#[tokio::test]
async fn executor_failure_fails_the_run_with_its_error() {
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("first", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(FnExecutor::new("second", |_: i64, _: WorkflowContext<i64>| async move {
            Err::<(), BoxError>(Box::new(Broken))
        }))
        .add_executor(FnExecutor::new("third", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(x);
            Ok(())
        }))
        .add_edge("first", "second")
        .add_edge("second", "third")
        .build()
        .unwrap();
    let result = workflow.run(1_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::Failed);
    assert!(result.outputs.is_empty());
    let error = result.error().unwrap();
    match &**error {
        WorkflowError::Executor { executor_id, superstep, source } => {
            assert_eq!(executor_id, "second");
            assert_eq!(*superstep, 2);
            assert!(source.downcast_ref::<Broken>().is_some());
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(error.to_string().contains("the disk is on fire"));
    assert!(result.events.iter().any(|e| matches!(e,
        WorkflowEvent::ExecutorFailed { executor_id, error, .. } if executor_id == "second" && error.contains("fire"))));
    assert!(matches!(result.events.last(), Some(WorkflowEvent::Status { status: RunStatus::Failed })));
}

#[tokio::test]
async fn wrong_input_type_is_refused_before_the_run() {
    let workflow = classify()
        .add_edge("in", "small")
        .add_edge("in", "negative")
        .add_edge("in", "large")
        .build()
        .unwrap();
    let error = workflow.run("text".to_string()).await.unwrap_err();
    assert!(matches!(error, WorkflowError::InputType { executor_id, .. } if executor_id == "in"));
}

#[tokio::test]
async fn executors_in_one_superstep_run_concurrently() {
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let waiter = |id: &'static str| {
        let barrier = barrier.clone();
        FnExecutor::new(id, move |x: i64, ctx: WorkflowContext<()>| {
            let barrier = barrier.clone();
            async move {
                // Neither can pass until the other arrives: only concurrent handlers finish.
                barrier.wait().await;
                ctx.yield_output(x);
                Ok(())
            }
        })
    };
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("split", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(waiter("left"))
        .add_executor(waiter("right"))
        .add_fan_out("split", ["left", "right"])
        .build()
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), workflow.run(1_i64)).await.expect("deadlocked");
    assert_eq!(result.unwrap().outputs_as::<i64>(), vec![1, 1]);
}

#[tokio::test]
async fn shared_state_is_committed_between_supersteps() {
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("writer", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.set_state("seen", &x)?;
            assert_eq!(ctx.get_state::<i64>("seen")?, Some(x));
            ctx.send_message(x);
            Ok(())
        }))
        .add_executor(FnExecutor::new("reader", |_: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(ctx.get_state::<i64>("seen")?.unwrap_or(-1));
            Ok(())
        }))
        .add_edge("writer", "reader")
        .build()
        .unwrap();
    assert_eq!(workflow.run(9_i64).await.unwrap().outputs_as::<i64>(), vec![9]);
}

#[tokio::test]
async fn run_stream_yields_events_as_they_happen() {
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("a", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.add_event(format!("custom {x}"));
            ctx.send_message(x + 1);
            Ok(())
        }))
        .add_executor(FnExecutor::new("b", |x: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(x);
            Ok(())
        }))
        .add_edge("a", "b")
        .build()
        .unwrap();
    let events: Vec<WorkflowEvent> = workflow.run_stream(1_i64).collect().await;
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            WorkflowEvent::Started { .. } => "started".to_string(),
            WorkflowEvent::Status { status } => format!("status {status:?}"),
            WorkflowEvent::SuperstepStarted { superstep } => format!("superstep {superstep}"),
            WorkflowEvent::SuperstepCompleted { superstep } => format!("/superstep {superstep}"),
            WorkflowEvent::ExecutorInvoked { executor_id, .. } => format!("invoke {executor_id}"),
            WorkflowEvent::ExecutorCompleted { executor_id, .. } => format!("/invoke {executor_id}"),
            WorkflowEvent::Custom { event, .. } => event.get::<String>().unwrap().clone(),
            WorkflowEvent::Output(output) => format!("output {}", output.get::<i64>().unwrap()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "started",
            "status InProgress",
            "superstep 1",
            "invoke a",
            "custom 1",
            "/invoke a",
            "/superstep 1",
            "superstep 2",
            "invoke b",
            "output 2",
            "/invoke b",
            "/superstep 2",
            "status Idle",
        ]
    );
    let refused: Vec<WorkflowEvent> = workflow.run_stream("wrong".to_string()).collect().await;
    assert!(matches!(refused.first(), Some(WorkflowEvent::Failed { .. })));
}

#[tokio::test]
async fn endless_loops_stop_at_the_superstep_limit() {
    let workflow = WorkflowBuilder::new()
        .start_with(FnExecutor::new("ping", |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x + 1);
            Ok(())
        }))
        .add_edge("ping", "ping")
        .max_supersteps(5)
        .build()
        .unwrap();
    let result = workflow.run(0_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::Failed);
    assert!(matches!(&**result.error().unwrap(), WorkflowError::MaxSupersteps { limit: 5 }));
}
