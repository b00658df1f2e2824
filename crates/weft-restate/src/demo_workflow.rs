//! The demo workflow of the `weft-restate-demo-worker` binary, the workflow fault tests and the
//! `restate_workflow` example: a research job planned, looked into by two executors at once,
//! joined, and (when asked) reviewed by a human. Each executor invocation is counted in a file
//! (`exec-ID.count`, a line per invocation: its step key, or `local`), so that a test can see
//! which invocations a crash made again.
//!
//! ```text
//! plan --> [facts, lookup] --> review        (fan-out, then fan-in)
//! plan --> poison                            (only for topics that contain "poison")
//! ```
//!
//! `lookup` takes [`DemoSettings::lookup_delay`]; `poison` always fails; `review` asks for a
//! [`ReviewAnswer`] when the job says so, and yields a [`Report`].

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_workflow::{
    AnyMessage, BoxError, BuildError, Executor, PendingRequest, Workflow, WorkflowBuilder, WorkflowContext,
};

use crate::demo::{DemoSettings, count};

/// The input of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Job {
    /// What to research.
    pub topic: String,
    /// Whether a human reviews the findings before the report.
    #[serde(default)]
    pub review: bool,
}

/// What `review` asks a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewRequest {
    /// The topic.
    pub topic: String,
    /// The findings to review.
    pub findings: Vec<String>,
}

/// A human's review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewAnswer {
    /// Whether the findings are approved.
    pub approved: bool,
    /// A note for the report.
    pub note: String,
}

/// The run's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The topic.
    pub topic: String,
    /// The findings, `facts`' first.
    pub findings: Vec<String>,
    /// The human's review, when the job asked for one.
    pub review: Option<ReviewAnswer>,
}

/// The file counting the invocations of executor `id`.
pub fn executor_count_file(id: &str) -> String {
    format!("exec-{id}.count")
}

/// The state key of the job.
const JOB: &str = "job";

fn counted(counts: &Option<PathBuf>, id: &str) -> Result<(), BoxError> {
    count(counts.as_deref(), &executor_count_file(id))
        .map_err(|e| format!("cannot count the invocation: {e}").into())
}

/// One demo executor; what it does depends on its role.
struct Step {
    id: &'static str,
    counts: Option<PathBuf>,
    delay: std::time::Duration,
}

/// `plan`: keeps the job in the shared state and sends it on.
struct Plan(Step);

#[async_trait]
impl Executor for Plan {
    type Input = Job;
    type Output = Job;

    fn id(&self) -> &str {
        self.0.id
    }

    async fn handle(&self, job: Job, ctx: &WorkflowContext<Job>) -> Result<(), BoxError> {
        counted(&self.0.counts, self.0.id)?;
        ctx.set_state(JOB, &job)?;
        ctx.send_message(job);
        Ok(())
    }
}

/// `facts`, `lookup` and `poison`: one finding per job (`poison` fails instead).
struct Research(Step);

#[async_trait]
impl Executor for Research {
    type Input = Job;
    type Output = String;

    fn id(&self) -> &str {
        self.0.id
    }

    async fn handle(&self, job: Job, ctx: &WorkflowContext<String>) -> Result<(), BoxError> {
        counted(&self.0.counts, self.0.id)?;
        match self.0.id {
            "poison" => Err("the poison executor always fails".into()),
            "lookup" => {
                tokio::time::sleep(self.0.delay).await;
                ctx.send_message(format!("found: {}", job.topic));
                Ok(())
            }
            _ => {
                ctx.send_message(format!("a fact about {}", job.topic));
                Ok(())
            }
        }
    }
}

/// `review`: joins the findings; asks a human when the job says so; yields the report.
struct Review(Step);

fn job(ctx: &WorkflowContext<()>) -> Result<Job, BoxError> {
    ctx.get_state::<Job>(JOB)?.ok_or_else(|| "the job is not in the shared state".into())
}

#[async_trait]
impl Executor for Review {
    type Input = Vec<String>;
    type Output = ();

    fn id(&self) -> &str {
        self.0.id
    }

    async fn handle(&self, findings: Vec<String>, ctx: &WorkflowContext<()>) -> Result<(), BoxError> {
        counted(&self.0.counts, self.0.id)?;
        let job = job(ctx)?;
        if job.review {
            ctx.request_info::<ReviewRequest, ReviewAnswer>(ReviewRequest { topic: job.topic, findings })?;
        } else {
            ctx.yield_output(Report { topic: job.topic, findings, review: None });
        }
        Ok(())
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<()>,
    ) -> Result<(), BoxError> {
        counted(&self.0.counts, self.0.id)?;
        let asked: ReviewRequest = request.data_as()?;
        let answer = response.take::<ReviewAnswer>().map_err(|other| {
            format!("the answer is not a review ({{\"approved\": bool, \"note\": string}}): {other:?}")
        })?;
        ctx.yield_output(Report { topic: asked.topic, findings: asked.findings, review: Some(answer) });
        Ok(())
    }
}

/// The demo workflow (see the [module docs](self)), its message types under stable names.
pub fn workflow(settings: &DemoSettings) -> Result<Workflow, BuildError> {
    let step = |id: &'static str| Step { id, counts: settings.counts.clone(), delay: settings.lookup_delay };
    WorkflowBuilder::new()
        .name("research")
        .message::<Job>("demo.Job")
        .message::<ReviewRequest>("demo.ReviewRequest")
        .message::<ReviewAnswer>("demo.ReviewAnswer")
        .message::<Report>("demo.Report")
        .start_with(Plan(step("plan")))
        .add_executor(Research(step("facts")))
        .add_executor(Research(step("lookup")))
        .add_executor(Research(step("poison")))
        .add_executor(Review(step("review")))
        .add_fan_out("plan", ["facts", "lookup"])
        .add_edge_if("plan", "poison", |job: &Job| job.topic.contains("poison"))
        .add_fan_in(["facts", "lookup"], "review")
        .build()
}
