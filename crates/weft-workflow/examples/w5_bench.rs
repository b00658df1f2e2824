//! Benchmark workload W5 (see /work/shared/bench/WORKLOADS.md): W5-chain (10 executors in a
//! chain, each adding 1, run 200 times) and W5-fanout (a dispatcher, 50 workers, one
//! aggregator, run 100 times), each printing one RESULT line. Built once, no warm-up; the timed
//! region is the loop of runs.
//!
//! Run with `cargo run --release -p weft-workflow --example w5_bench`.

use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};
use weft_workflow::{BuildError, FnExecutor, Workflow, WorkflowBuilder, WorkflowContext};

/// CPU seconds (user, system) and peak RSS in MiB of this process so far.
fn rusage() -> (f64, f64, f64) {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let seconds = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            (seconds(usage.user_time()), seconds(usage.system_time()), usage.max_rss() as f64 / 1024.0)
        }
        Err(_) => (0.0, 0.0, 0.0),
    }
}

fn chain() -> Result<Workflow, BuildError> {
    let mut builder = WorkflowBuilder::new().name("w5_chain");
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
    builder.set_start("add0").build()
}

fn fan_out() -> Result<Workflow, BuildError> {
    let workers: Vec<String> = (0..50).map(|k| format!("worker{k}")).collect();
    let mut builder = WorkflowBuilder::new().name("w5_fanout").start_with(FnExecutor::new(
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
}

/// Runs `n` items through `check` in a timed region and prints the RESULT line.
async fn measure<F, Fut>(workload: &str, n: i64, check: F) -> bool
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let before = rusage();
    let started = Instant::now();
    let mut ok = 0;
    for i in 0..n {
        if check(i).await {
            ok += 1;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let after = rusage();
    let (user, sys) = (after.0 - before.0, after.1 - before.1);
    println!(
        "RESULT peer=weft api=none workload={workload} n={n} ok={ok} unit=workflow_runs wall_s={wall:.4} \
         ops_per_s={:.1} cpu_s={:.3} user_s={user:.3} sys_s={sys:.3} peak_rss_mb={:.1} mock_reqs=0 mock_cpu_s=0.000",
        n as f64 / wall,
        user + sys,
        after.2
    );
    if ok != n {
        eprintln!("VALIDATION FAILED: {workload} ok={ok} of {n}");
    }
    ok == n
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chain = chain()?;
    let fan_out = fan_out()?;
    let chain_ok = measure("W5-chain", 200, |i| {
        let chain = chain.clone();
        async move { chain.run(i).await.is_ok_and(|r| r.outputs_as::<i64>() == vec![i + 10]) }
    })
    .await;
    let fan_out_ok = measure("W5-fanout", 100, |i| {
        let fan_out = fan_out.clone();
        async move {
            fan_out.run(i).await.is_ok_and(|r| r.outputs_as::<Vec<i64>>() == vec![vec![50, 50 * i + 1225]])
        }
    })
    .await;
    if chain_ok && fan_out_ok { Ok(()) } else { Err("validation failed".into()) }
}
