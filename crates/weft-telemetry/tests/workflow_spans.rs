//! A workflow's spans read back from an OTLP receiver in the test: the run, its supersteps and
//! executors nest, a fan-in links to its sources, requests for input are events, failures are
//! marked.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use weft_telemetry::{Telemetry, TelemetryConfig};
use weft_workflow::{FnExecutor, RunStatus, WorkflowBuilder, WorkflowContext};

use support::{attribute, receiver, span, spans};

/// Export to `url` for this thread only (so that tests of one process do not share it).
fn export(url: &str) -> (Telemetry, tracing::subscriber::DefaultGuard) {
    use tracing_subscriber::layer::SubscriberExt as _;
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(url)).unwrap();
    let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    let guard = tracing::subscriber::set_default(subscriber);
    (telemetry, guard)
}

async fn flush(telemetry: Telemetry) {
    // Off the runtime's thread: the exporter's HTTP client blocks.
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();
}

fn relay(id: &'static str) -> impl weft_workflow::Executor<Input = String, Output = String> {
    FnExecutor::new(id, move |text: String, ctx: WorkflowContext<String>| async move {
        ctx.send_message(format!("{text}>{id}"));
        Ok(())
    })
}

#[tokio::test]
async fn workflow_spans_nest_and_the_fan_in_links_its_sources() {
    let (otlp, received, _otlp) = receiver().await;
    let (telemetry, guard) = export(&otlp);
    let workflow = WorkflowBuilder::new()
        .name("review")
        .start_with(relay("split"))
        .add_executor(relay("left"))
        .add_executor(relay("right"))
        .add_executor(FnExecutor::new("join", |parts: Vec<String>, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(parts.join("+"));
            Ok(())
        }))
        .add_fan_out("split", ["left", "right"])
        .add_fan_in(["left", "right"], "join")
        .build()
        .unwrap();
    let root = tracing::info_span!("caller");
    let result = tracing::Instrument::instrument(workflow.run("x".to_string()), root.clone()).await.unwrap();
    assert_eq!(result.status, RunStatus::Idle);
    drop(root);
    drop(guard);
    flush(telemetry).await;

    let spans = spans(&received);
    let caller = span(&spans, "caller");
    let run = span(&spans, "workflow.run review");
    assert_eq!(run.parent_span_id, caller.span_id);
    assert_eq!(attribute(run, "weft.workflow.name").as_deref(), Some("review"));
    assert_eq!(attribute(run, "weft.workflow.run_id"), Some(result.run_id.clone()));
    assert_eq!(attribute(run, "weft.workflow.status").as_deref(), Some("idle"));
    for (step, executors) in [(1, &["split"][..]), (2, &["left", "right"][..]), (3, &["join"][..])] {
        let superstep = span(&spans, &format!("workflow.superstep {step}"));
        assert_eq!(superstep.parent_span_id, run.span_id);
        assert_eq!(attribute(superstep, "weft.workflow.superstep"), Some(step.to_string()));
        for id in executors {
            let executor = span(&spans, &format!("executor.process {id}"));
            assert_eq!(executor.parent_span_id, superstep.span_id, "{id}");
            assert_eq!(attribute(executor, "weft.executor.id").as_deref(), Some(*id));
        }
    }
    let join = span(&spans, "executor.process join");
    assert_eq!(attribute(join, "weft.workflow.fan_in.sources").as_deref(), Some("left,right"));
    let linked: Vec<Vec<u8>> = join.links.iter().map(|link| link.span_id.clone()).collect();
    let sources = [span(&spans, "executor.process left"), span(&spans, "executor.process right")];
    assert_eq!(linked, sources.iter().map(|source| source.span_id.clone()).collect::<Vec<_>>());
    assert!(join.links.iter().all(|link| link.trace_id == run.trace_id));
}

#[tokio::test]
async fn a_request_for_input_is_an_event_and_a_failure_marks_its_spans() {
    let (otlp, received, _otlp) = receiver().await;
    let (telemetry, guard) = export(&otlp);
    let asking = WorkflowBuilder::new()
        .name("approval")
        .start_with(FnExecutor::new("asker", |amount: i64, ctx: WorkflowContext<()>| async move {
            ctx.request_info::<i64, bool>(amount)?;
            Ok(())
        }))
        .build()
        .unwrap();
    let result = asking.run(500_i64).await.unwrap();
    assert_eq!(result.status, RunStatus::IdleWithPendingRequests);
    let failing = WorkflowBuilder::new()
        .name("broken")
        .start_with(FnExecutor::new(
            "boom",
            |_: i64, _: WorkflowContext<()>| async move { Err("no luck".into()) },
        ))
        .build()
        .unwrap();
    assert_eq!(failing.run(1_i64).await.unwrap().status, RunStatus::Failed);
    drop(guard);
    flush(telemetry).await;

    let spans = spans(&received);
    let run = span(&spans, "workflow.run approval");
    assert_eq!(attribute(run, "weft.workflow.status").as_deref(), Some("idle_with_pending_requests"));
    let events: Vec<&str> = run.events.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(events, ["workflow.request_info", "workflow.waiting_for_input"]);
    let asked = &run.events[0];
    let request_id = asked.attributes.iter().find(|kv| kv.key == "weft.request.id").expect("request id");
    let pending = result.events.iter().find_map(|event| match event {
        weft_workflow::WorkflowEvent::RequestInfo(request) => Some(request.request_id.clone()),
        _ => None,
    });
    assert_eq!(format!("{:?}", request_id.value), format!("{:?}", Some(string_value(pending.unwrap()))));

    let broken = span(&spans, "workflow.run broken");
    assert_eq!(attribute(broken, "error.type").as_deref(), Some("executor_failed"));
    assert_eq!(broken.status.as_ref().map(|status| status.code), Some(2), "status error");
    let boom = span(&spans, "executor.process boom");
    assert_eq!(attribute(boom, "error.type").as_deref(), Some("executor_failed"));
}

fn string_value(text: String) -> opentelemetry_proto::tonic::common::v1::AnyValue {
    opentelemetry_proto::tonic::common::v1::AnyValue {
        value: Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(text)),
    }
}
