//! W5: workflows with no model: a chain of 10 executors each adding 1, and a dispatcher fanning
//! out to 50 workers (worker k sends `value + k`) joined by an aggregator yielding
//! `[count, sum]`.

use weft_workflow::{BuildError, FnExecutor, Workflow, WorkflowBuilder, WorkflowContext};

/// The executor invocations of one run of [`chain`]: 10 adders, one superstep each.
pub const CHAIN_INVOCATIONS: usize = 10;

/// The executor invocations of one run of [`fan_out`]: the dispatcher, 50 workers and the
/// aggregator.
pub const FAN_OUT_INVOCATIONS: usize = 52;

/// The chain of 10 adders; input `i` yields `i + 10`.
pub fn chain() -> Result<Workflow, BuildError> {
    chain_with(|| {})
}

/// [`chain`] calling `probe` at each executor invocation (W9 counts a worker's invocations).
pub fn chain_with<P: Fn() + Clone + Send + Sync + 'static>(probe: P) -> Result<Workflow, BuildError> {
    let mut builder = WorkflowBuilder::new();
    for k in 0..10 {
        let last = k == 9;
        let probe = probe.clone();
        builder = builder.add_executor(FnExecutor::new(
            format!("add{k}"),
            move |x: i64, ctx: WorkflowContext<i64>| {
                probe();
                async move {
                    if last {
                        ctx.yield_output(x + 1);
                    } else {
                        ctx.send_message(x + 1);
                    }
                    Ok(())
                }
            },
        ));
        if k > 0 {
            builder = builder.add_edge(format!("add{}", k - 1), format!("add{k}"));
        }
    }
    builder.set_start("add0").build()
}

/// The fan-out to 50 workers and back; input `i` yields `[50, 50 * i + 1225]`.
pub fn fan_out() -> Result<Workflow, BuildError> {
    fan_out_with(|| {})
}

/// [`fan_out`] calling `probe` at each executor invocation.
pub fn fan_out_with<P: Fn() + Clone + Send + Sync + 'static>(probe: P) -> Result<Workflow, BuildError> {
    let workers: Vec<String> = (0..50).map(|k| format!("worker{k}")).collect();
    let dispatch_probe = probe.clone();
    let mut builder = WorkflowBuilder::new().start_with(FnExecutor::new(
        "dispatch",
        move |x: i64, ctx: WorkflowContext<i64>| {
            dispatch_probe();
            async move {
                ctx.send_message(x);
                Ok(())
            }
        },
    ));
    for k in 0..50_i64 {
        let probe = probe.clone();
        builder = builder.add_executor(FnExecutor::new(
            format!("worker{k}"),
            move |x: i64, ctx: WorkflowContext<i64>| {
                probe();
                async move {
                    ctx.send_message(x + k);
                    Ok(())
                }
            },
        ));
    }
    builder
        .add_executor(FnExecutor::new("aggregate", move |xs: Vec<i64>, ctx: WorkflowContext<()>| {
            probe();
            async move {
                ctx.yield_output(vec![xs.len() as i64, xs.iter().sum()]);
                Ok(())
            }
        }))
        .add_fan_out("dispatch", workers.clone())
        .add_fan_in(workers, "aggregate")
        .build()
}
