//! A workflow that checkpoints to SQLite after every superstep, stops part way, and is resumed by
//! another process from its last checkpoint.
//!
//! ```sh
//! cargo run -p weft-workflow --example checkpoint_resume -- run --stop-after 2   # build, test; stops
//! cargo run -p weft-workflow --example checkpoint_resume -- resume               # package, publish
//! ```
//!
//! `run` starts a release pipeline of four steps, one per superstep. `--stop-after N` ends the
//! run after superstep N, as a crash or a redeploy would (here with a superstep limit, so that
//! the stop is exact); without it the run finishes. `resume` opens the same database in a new
//! process and continues the newest run from its last checkpoint: the steps already done are not
//! run again, and the release they worked on arrives intact. `--db PATH` picks the database
//! (default: `weft-checkpoint-resume.db` in the temp directory).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use weft_workflow::{
    BoxError, BuildError, CheckpointStore, Executor, SqliteCheckpointStore, Workflow, WorkflowBuilder,
    WorkflowContext, WorkflowError, WorkflowEvent,
};

/// What travels from step to step (and is saved in every checkpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Release {
    version: String,
    /// What each step did, in order.
    log: Vec<String>,
}

/// One step of the pipeline: records what it did and passes the release on (the last one
/// yields it as the workflow's output).
struct Step {
    id: &'static str,
    note: &'static str,
    last: bool,
}

#[async_trait]
impl Executor for Step {
    type Input = Release;
    type Output = Release;

    fn id(&self) -> &str {
        self.id
    }

    async fn handle(&self, mut release: Release, ctx: &WorkflowContext<Release>) -> Result<(), BoxError> {
        release.log.push(format!("{}: {} {}", self.id, self.note, release.version));
        if self.last {
            ctx.yield_output(release);
        } else {
            ctx.send_message(release);
        }
        Ok(())
    }
}

/// The steps, in order, and what each one records.
const STEPS: [(&str, &str); 4] =
    [("build", "compiled"), ("test", "tests passed"), ("package", "packaged"), ("publish", "published")];

/// The pipeline; with `stop_after`, runs end (failing with `MaxSupersteps`) after that superstep.
fn pipeline(store: Arc<dyn CheckpointStore>, stop_after: Option<u64>) -> Result<Workflow, BuildError> {
    let step =
        |index: usize| Step { id: STEPS[index].0, note: STEPS[index].1, last: index + 1 == STEPS.len() };
    let mut builder = WorkflowBuilder::new().name("release").start_with(step(0));
    for index in 1..STEPS.len() {
        builder = builder.add_executor(step(index)).add_edge(STEPS[index - 1].0, STEPS[index].0);
    }
    if let Some(limit) = stop_after {
        builder = builder.max_supersteps(limit);
    }
    builder.with_checkpoint_store(store).build()
}

const USAGE: &str = "usage: checkpoint_resume run [--stop-after N] [--db PATH] | resume [--db PATH]";

/// What the command line asks for.
struct Args {
    resume: bool,
    stop_after: Option<u64>,
    db: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let resume = match args.next().as_deref() {
        Some("run") => false,
        Some("resume") => true,
        _ => return Err(USAGE.into()),
    };
    let mut parsed =
        Args { resume, stop_after: None, db: std::env::temp_dir().join("weft-checkpoint-resume.db") };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--stop-after" => {
                parsed.stop_after =
                    Some(value.parse().map_err(|_| format!("--stop-after {value}: not a number"))?)
            }
            "--db" => parsed.db = value.into(),
            _ => return Err(format!("unknown option {flag}; {USAGE}")),
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("checkpoint_resume: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let store = SqliteCheckpointStore::open(&args.db)
        .await
        .map_err(|e| format!("cannot open {}: {e}", args.db.display()))?;
    let stop_after = if args.resume { None } else { args.stop_after };
    let workflow = pipeline(Arc::new(store.clone()), stop_after).map_err(|e| e.to_string())?;
    println!("process {}, checkpoints in {}", std::process::id(), args.db.display());

    let events = if args.resume {
        let run_id = store.runs().await.map_err(|e| e.to_string())?.into_iter().next();
        let run_id = run_id.ok_or("no run to resume: start one with `run`")?;
        let checkpoints = workflow.list_checkpoints(&run_id).await.map_err(|e| e.to_string())?;
        let last = checkpoints.last().ok_or_else(|| format!("run {run_id} has no checkpoint"))?;
        let checkpoint = store.load(&last.checkpoint_id).await.map_err(|e| e.to_string())?;
        if checkpoint.messages.is_empty() && checkpoint.pending_requests.is_empty() {
            println!("run {run_id} has finished: nothing to resume (start another with `run`)");
            return Ok(());
        }
        println!("resuming run {run_id} from its checkpoint after superstep {}", last.superstep);
        workflow.resume_stream(&last.checkpoint_id)
    } else {
        workflow.run_stream(Release { version: "1.4.0".into(), log: Vec::new() })
    };
    let outcome = follow(events).await;
    store.close().await;
    outcome
}

/// Prints a run's progress and, when it finishes, the release.
async fn follow(mut events: BoxStream<'static, WorkflowEvent>) -> Result<(), String> {
    let mut release = None;
    while let Some(event) = events.next().await {
        match event {
            WorkflowEvent::Started { run_id, resumed_from: None } => println!("started run {run_id}"),
            WorkflowEvent::ExecutorCompleted { executor_id, superstep } => {
                println!("superstep {superstep}: {executor_id} done")
            }
            WorkflowEvent::Output(output) => release = output.get::<Release>().cloned(),
            WorkflowEvent::Failed { error } => {
                return match error.as_ref() {
                    WorkflowError::MaxSupersteps { limit } => {
                        println!("stopped after superstep {limit}; continue with `resume`");
                        Ok(())
                    }
                    other => Err(format!("the run failed: {other}")),
                };
            }
            _ => {}
        }
    }
    if let Some(release) = release {
        println!("release {} is out:", release.version);
        for line in &release.log {
            println!("  {line}");
        }
    }
    Ok(())
}
