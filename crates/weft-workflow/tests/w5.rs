#![allow(clippy::unwrap_used, clippy::expect_used)]
//! W5 from the benchmark workloads: a chain of 10 adders, and a 50-way fan-out (worker k adds k,
//! k = 0..49) with a fan-in yielding [count, sum].

use weft_workflow::{FnExecutor, Workflow, WorkflowBuilder, WorkflowContext};

fn chain() -> Workflow {
    let mut builder = WorkflowBuilder::new();
    for k in 0..10 {
        let last = k == 9;
        builder = builder.add_executor(FnExecutor::new(
            format!("add{k}"),
            move |x: i64, ctx: WorkflowContext<i64>| async move {
                if last {
                    ctx.yield_output(x + 1);
                } else {
                    ctx.send_message(x + 1);
                }
                Ok(())
            },
        ));
        if k > 0 {
            builder = builder.add_edge(format!("add{}", k - 1), format!("add{k}"));
        }
    }
    builder.set_start("add0").build().unwrap()
}

fn fan_out() -> Workflow {
    let workers: Vec<String> = (0..50).map(|k| format!("worker{k}")).collect();
    let mut builder = WorkflowBuilder::new().start_with(FnExecutor::new(
        "dispatch",
        |x: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(x);
            Ok(())
        },
    ));
    for k in 0..50_i64 {
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
        .add_fan_out("dispatch", workers.clone())
        .add_fan_in(workers, "aggregate")
        .build()
        .unwrap()
}

#[tokio::test]
async fn w5_chain() {
    let workflow = chain();
    for i in 0..200_i64 {
        let result = workflow.run(i).await.unwrap();
        assert_eq!(result.outputs_as::<i64>(), vec![i + 10]);
    }
}

#[tokio::test]
async fn w5_fan_out() {
    let workflow = fan_out();
    for i in 0..100_i64 {
        let result = workflow.run(i).await.unwrap();
        assert_eq!(result.outputs_as::<Vec<i64>>(), vec![vec![50, 50 * i + 1225]]);
    }
}
