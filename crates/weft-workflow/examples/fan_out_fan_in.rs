//! Fan-out to 50 workers and fan-in to one aggregator (benchmark workload W5-fanout), printing the
//! outputs, the Mermaid diagram of a small version, and the time per run.
//!
//! Run with `cargo run -p weft-workflow --example fan_out_fan_in`.

use std::time::Instant;

use weft_workflow::{FnExecutor, Workflow, WorkflowBuilder, WorkflowContext};

fn build(workers: i64) -> Result<Workflow, weft_workflow::BuildError> {
    let ids: Vec<String> = (0..workers).map(|k| format!("worker{k}")).collect();
    let mut builder = WorkflowBuilder::new().name("fan_out_fan_in").start_with(FnExecutor::new(
        "dispatch",
        |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x);
            Ok(())
        },
    ));
    for k in 0..workers {
        builder = builder.add_executor(FnExecutor::new(
            format!("worker{k}"),
            move |x: i64, ctx: WorkflowContext<i64>| async move {
                ctx.send_message(x + k);
                Ok(())
            },
        ));
    }
    builder
        .add_executor(FnExecutor::new("aggregate", |xs: Vec<i64>, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(vec![xs.len() as i64, xs.iter().sum()]);
            Ok(())
        }))
        .add_fan_out("dispatch", ids.clone())
        .add_fan_in(ids, "aggregate")
        .build()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", build(3)?.to_mermaid());
    let workflow = build(50)?;
    let runs = 100;
    let started = Instant::now();
    let mut ok = 0;
    for i in 0..runs {
        let result = workflow.run(i).await?;
        if let Some(error) = result.error() {
            return Err(format!("run {i} failed: {error}").into());
        }
        if result.outputs_as::<Vec<i64>>() == vec![vec![50, 50 * i + 1225]] {
            ok += 1;
        }
    }
    let elapsed = started.elapsed();
    println!("{ok}/{runs} runs correct, {:.1} µs per run", elapsed.as_secs_f64() * 1e6 / runs as f64);
    Ok(())
}
