//! `weft workflow start RUN INPUT`, `weft workflow status RUN` and `weft workflow respond RUN
//! REQUEST ANSWER`: a durable workflow run on Restate (the `WeftWorkflow` service of a Weft
//! worker, `weft worker WORKFLOW.yaml`), started, read and answered through Restate's ingress.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::error::CliError;

/// How long one call to the ingress may take.
const INGRESS_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes of an ingress answer read.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The Restate service that runs Weft workflows.
const WORKFLOW_SERVICE: &str = "WeftWorkflow";

/// Arguments of `weft workflow`.
#[derive(Debug, Args)]
pub(crate) struct WorkflowArgs {
    #[command(subcommand)]
    pub(crate) command: WorkflowCommand,

    /// Restate's ingress URL.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "RESTATE_INGRESS_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub(crate) ingress: String,
}

/// What `weft workflow` does.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowCommand {
    /// Start a durable run of the workflow the workers serve, under the id RUN (one run per
    /// id: starting an id again is refused, so a retried start never runs twice).
    Start {
        /// The run's id (its workflow key), e.g. a job or ticket id.
        run: String,
        /// The run's input: text, which a declarative workflow gets as a user message; with
        /// --json, JSON of the start executor's input type.
        input: String,
        /// INPUT is JSON of the start executor's input type.
        #[arg(long)]
        json: bool,
        /// Wait for the run to finish and print its outputs (a run waiting for answers waits
        /// for them too: answer from another terminal).
        #[arg(long)]
        wait: bool,
        /// With --wait, how long to wait, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 600, requires = "wait")]
        timeout: u64,
    },
    /// Wait for a durable run to finish and print its outputs (a string as it is, messages by
    /// their text, anything else as JSON).
    Wait {
        /// The run (its workflow key).
        run: String,
        /// How long to wait, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        timeout: u64,
    },
    /// Where a durable run stands: its phase, last superstep, messages in flight, fan-in
    /// buffers and the requests it waits for.
    Status {
        /// The run (its workflow key).
        run: String,
        /// Print the status as Restate's worker returned it (JSON).
        #[arg(long)]
        json: bool,
    },
    /// Answer a request a durable run waits for; the run goes on (now, or when its worker is
    /// back).
    Respond {
        /// The run (its workflow key).
        run: String,
        /// The request's id (`weft workflow status RUN` lists them).
        request: String,
        /// The answer, as JSON of the request's response type (a bare word is taken as a
        /// string).
        answer: String,
    },
}

/// Runs `weft workflow …`.
pub(crate) async fn run(args: WorkflowArgs) -> Result<(), CliError> {
    let ingress = args.ingress.trim_end_matches('/').to_owned();
    match args.command {
        WorkflowCommand::Start { run, input, json, wait, timeout } => {
            let input = if json {
                serde_json::from_str(&input)
                    .map_err(|e| CliError::Usage(format!("the input is not JSON (--json): {e}")))?
            } else {
                serde_json::to_value([weft::Message::user(input)])
                    .map_err(|e| CliError::Usage(format!("the input cannot be sent: {e}")))?
            };
            let url = format!("{ingress}/{WORKFLOW_SERVICE}/{run}/run/send");
            let accepted = call_url(&url, Some(input), INGRESS_TIMEOUT, false).await?;
            // Restate starts one run per workflow key; a second start is only acknowledged.
            if accepted["status"] == "PreviouslyAccepted" {
                return Err(CliError::Restate(format!(
                    "a run '{run}' was started before (one run per id): see it with `weft workflow status {run}`"
                )));
            }
            if !wait {
                println!("started {run} (see it with: weft workflow status {run})");
                return Ok(());
            }
            print_outputs(&ingress, &run, timeout).await
        }
        WorkflowCommand::Wait { run, timeout } => print_outputs(&ingress, &run, timeout).await,
        WorkflowCommand::Status { run, json } => {
            let status = call(&ingress, &run, "status", None).await?;
            if json {
                println!("{status}");
                return Ok(());
            }
            if status.is_null() {
                return Err(CliError::Restate(format!(
                    "no workflow run '{run}' at {ingress}: it has not started (or is not a {WORKFLOW_SERVICE} run)"
                )));
            }
            print!("{}", describe(&run, &status));
            Ok(())
        }
        WorkflowCommand::Respond { run, request, answer } => {
            let answer = serde_json::from_str(&answer).unwrap_or(Value::String(answer));
            call(&ingress, &run, "respond", Some(json!({ "request_id": request, "answer": answer }))).await?;
            println!("answered {request} of {run}");
            Ok(())
        }
    }
}

/// Waits for the run's end (Restate's `attach`), at most `timeout` seconds, and prints its outputs.
async fn print_outputs(ingress: &str, run: &str, timeout: u64) -> Result<(), CliError> {
    let url = format!("{ingress}/restate/workflow/{WORKFLOW_SERVICE}/{run}/attach");
    let reply = call_url(&url, None, Duration::from_secs(timeout), true).await?;
    for output in reply["outputs"].as_array().into_iter().flatten() {
        println!("{}", show_output(&output["value"]));
    }
    Ok(())
}

/// An output as text: a string as it is, messages by their text, anything else as JSON.
fn show_output(value: &Value) -> String {
    if let Some(text) = value.as_str() {
        return text.to_owned();
    }
    let messages = match value {
        Value::Array(items) => {
            items.iter().map(|m| serde_json::from_value::<weft::Message>(m.clone())).collect()
        }
        other => serde_json::from_value::<weft::Message>(other.clone()).map(|m| vec![m]),
    };
    match messages {
        Ok(messages) if !messages.is_empty() => {
            messages.iter().map(weft::Message::text).collect::<Vec<_>>().join("\n")
        }
        _ => value.to_string(),
    }
}

/// `POST {ingress}/WeftWorkflow/{run}/{handler}` with `body`; the answer as JSON.
async fn call(ingress: &str, run: &str, handler: &str, body: Option<Value>) -> Result<Value, CliError> {
    let url = format!("{ingress}/{WORKFLOW_SERVICE}/{run}/{handler}");
    call_url(&url, body, INGRESS_TIMEOUT, false).await
}

/// Calls `url` (`POST` with `body`, or `GET`), allowing it `timeout`; the answer as JSON.
async fn call_url(url: &str, body: Option<Value>, timeout: Duration, get: bool) -> Result<Value, CliError> {
    let url = url.to_owned();
    let unreachable = |error: reqwest::Error| {
        let cause = if error.is_timeout() {
            "timed out".to_owned()
        } else if error.is_connect() {
            "connection refused or unreachable".to_owned()
        } else {
            error.to_string()
        };
        CliError::Restate(format!("cannot reach Restate's ingress at {url}: {cause}"))
    };
    let client = reqwest::Client::builder().timeout(timeout).build().map_err(unreachable)?;
    let mut request = if get { client.get(&url) } else { client.post(&url) };
    if let Some(body) = body {
        request = request.json(&body);
    }
    let mut response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(CliError::Restate(format!("{url} answered more than {MAX_ANSWER_BYTES} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|value| value["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(500).collect());
        return Err(CliError::Restate(format!("{url}: HTTP {}: {message}", status.as_u16())));
    }
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::Restate(format!("{url} answered something not JSON: {e}")))
}

/// The status as lines for a person.
fn describe(run: &str, status: &Value) -> String {
    let text = |value: &Value| value.as_str().unwrap_or("?").to_owned();
    let mut out = format!(
        "run {run}: {} (superstep {})\n",
        text(&status["phase"]),
        status["superstep"].as_u64().unwrap_or(0)
    );
    let checkpoint = &status["checkpoint"];
    let messages = checkpoint["messages"].as_array().cloned().unwrap_or_default();
    if !messages.is_empty() {
        out.push_str(&format!("next superstep delivers {} message(s):\n", messages.len()));
        for message in &messages {
            out.push_str(&format!(
                "  -> {} ({})\n",
                text(&message["executor_id"]),
                text(&message["type_name"])
            ));
        }
    }
    for buffer in checkpoint["fan_in"].as_array().into_iter().flatten() {
        let held = buffer["messages"].as_array().map_or(0, Vec::len);
        if held > 0 {
            out.push_str(&format!("fan-in {} holds {held} message(s)\n", text(&buffer["edge"])));
        }
    }
    let requests = status["pending_requests"].as_array().cloned().unwrap_or_default();
    if !requests.is_empty() {
        out.push_str(&format!("waiting for {} answer(s):\n", requests.len()));
        for request in &requests {
            out.push_str(&format!(
                "  {}  from {}: {}  (answer: {})\n",
                text(&request["request_id"]),
                text(&request["executor_id"]),
                request["data"],
                text(&request["response_type"]),
            ));
        }
        out.push_str(&format!("answer with: weft workflow respond {run} REQUEST_ID 'JSON'\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_run_lists_its_messages_buffers_and_requests() {
        let status = json!({
            "phase": "waiting",
            "run_id": "r1",
            "superstep": 3,
            "pending_requests": [{
                "request_id": "q1", "executor_id": "reviewer", "request_type": "Draft",
                "response_type": "Verdict", "data": {"text": "hello"}
            }],
            "checkpoint": {
                "messages": [{"executor_id": "writer", "type_name": "Brief", "value": {}}],
                "fan_in": [{"edge": "[a, b] -> c", "messages": [{"executor_id": "a", "type_name": "X", "value": 1}]}]
            }
        });
        let text = describe("r1", &status);
        assert!(text.starts_with("run r1: waiting (superstep 3)\n"), "{text}");
        assert!(text.contains("  -> writer (Brief)"), "{text}");
        assert!(text.contains("fan-in [a, b] -> c holds 1 message(s)"), "{text}");
        assert!(text.contains("  q1  from reviewer: {\"text\":\"hello\"}  (answer: Verdict)"), "{text}");
        assert!(text.contains("weft workflow respond r1 REQUEST_ID"), "{text}");
    }

    #[test]
    fn a_finished_run_is_one_line() {
        let status = json!({"phase": "completed", "superstep": 5, "pending_requests": [], "checkpoint": {}});
        assert_eq!(describe("r2", &status), "run r2: completed (superstep 5)\n");
    }
}
