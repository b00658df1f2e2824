#![allow(clippy::unwrap_used, clippy::expect_used)]
//! W5's workflows (the benchmark's own builders) validate as WORKLOADS.md defines: the chain of 10
//! adders yields `[i + 10]`, the 50-way fan-out with fan-in yields `[[50, 50 * i + 1225]]`.

use weft_bench::w5;

#[tokio::test]
async fn w5_chain() {
    let workflow = w5::chain().unwrap();
    for i in 0..200_i64 {
        let result = workflow.run(i).await.unwrap();
        assert_eq!(result.outputs_as::<i64>(), vec![i + 10]);
    }
}

#[tokio::test]
async fn w5_fan_out() {
    let workflow = w5::fan_out().unwrap();
    for i in 0..100_i64 {
        let result = workflow.run(i).await.unwrap();
        assert_eq!(result.outputs_as::<Vec<i64>>(), vec![vec![50, 50 * i + 1225]]);
    }
}
