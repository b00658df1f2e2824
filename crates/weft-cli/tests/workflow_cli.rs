//! `weft run -f` on the declarative workflow examples (offline, on the scripted model), human
//! input from stdin, checkpoints and `--resume`, and `weft validate` / `weft schema workflow`
//! on workflow files.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{run, text};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/declarative")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `weft ARGS` with `input` on stdin.
fn run_with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = common::weft()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the weft binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs an example on `input`; returns stdout's lines.
fn lines(name: &str, input: &str) -> Vec<String> {
    let out = run(&["run", "-f", &example(name), input]);
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn sequential_runs_the_agent_file_then_the_inline_editor() {
    let out = lines("sequential.workflow.yaml", "What's the weather in Paris?");
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].starts_with("[output] weather: get_weather returned: weather in Paris:"), "{out:?}");
    assert_eq!(out[1], "[output] editor: You said: What's the weather in Paris?");
}

#[test]
fn concurrent_joins_both_answers_in_order() {
    let out = lines("concurrent.workflow.yaml", "Should we ship on Friday?");
    assert_eq!(
        out,
        [
            "[aggregator] optimist: You said: Should we ship on Friday?",
            "[aggregator] pessimist: You said: Should we ship on Friday?",
        ]
    );
}

#[test]
fn handoff_goes_from_triage_to_billing() {
    let out = run(&["run", "-f", &example("handoff.workflow.yaml"), "I have a billing question"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[billing] billing: You said: I have a billing question");
    let stderr = text(&out.stderr);
    let triage = stderr.find("▸ triage").expect("triage ran");
    let billing = stderr.find("▸ billing").expect("billing ran");
    assert!(triage < billing, "{stderr}");
}

#[test]
fn group_chat_takes_max_rounds_turns_in_round_robin() {
    let out = lines("group_chat.workflow.yaml", "Name our product");
    let speakers: Vec<&str> = out.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        speakers,
        ["[group_chat_manager] alice", "[group_chat_manager] bob", "[group_chat_manager] alice"]
    );
    assert!(out.iter().all(|l| l.ends_with("You said: Name our product")), "{out:?}");
}

#[test]
fn magentic_plans_then_answers() {
    let out = run(&["run", "-f", &example("magentic.workflow.yaml"), "Plan a team offsite"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("The team:\n- researcher: Finds venues.\n- planner: Writes the agenda."),
        "{stdout}"
    );
    assert!(stdout.contains("The plan:"), "{stdout}");
    assert!(stdout.contains("We are done with the request:\nPlan a team offsite"), "{stdout}");
}

#[test]
fn the_conditional_edge_picks_the_branch_by_the_message() {
    assert_eq!(
        lines("conditional.workflow.yaml", "please approve the budget"),
        ["[approver] approver: You said: please approve the budget"]
    );
    assert_eq!(
        lines("conditional.workflow.yaml", "file the minutes"),
        ["[archivist] archivist: You said: file the minutes"]
    );
}

#[test]
fn human_input_is_read_from_stdin() {
    let file = example("human_input.workflow.yaml");
    let yes = run_with_stdin(&["run", "-f", &file, "Draft a haiku"], "yes\n");
    assert!(yes.status.success(), "{}", text(&yes.stderr));
    assert_eq!(text(&yes.stdout).trim(), "[publisher] publisher: You said: yes");
    assert!(text(&yes.stderr).contains("[review] Publish the draft? (yes/no)"), "{}", text(&yes.stderr));
    let no = run_with_stdin(&["run", "-f", &file, "Draft a haiku"], "no thanks\n");
    assert!(no.status.success(), "{}", text(&no.stderr));
    assert_eq!(text(&no.stdout).trim(), "[shredder] shredder: You said: no thanks");
}

#[test]
fn without_an_answer_the_run_fails_clearly() {
    let out = run(&["run", "-f", &example("human_input.workflow.yaml"), "Draft a haiku"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the workflow waits for input and stdin ended before the answer"), "{stderr}");
    assert!(stderr.contains("give --checkpoint DIR"), "{stderr}");
}

#[test]
fn a_waiting_run_resumes_from_its_checkpoint_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoints: PathBuf = dir.path().join("checkpoints");
    let file = example("human_input.workflow.yaml");
    let cp = checkpoints.to_str().unwrap();
    let first = run(&["run", "--checkpoint", cp, "-f", &file, "Draft a haiku"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let stderr = text(&first.stderr);
    let id = stderr
        .split("--resume ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no checkpoint id in: {stderr}"))
        .to_string();
    assert!(text(&first.stdout).is_empty());
    let second = run_with_stdin(&["run", "--checkpoint", cp, "-f", &file, "--resume", &id], "yes\n");
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout).trim(), "[publisher] publisher: You said: yes");
    assert!(text(&second.stderr).contains(&format!("resumed from {id}")), "{}", text(&second.stderr));
}

#[test]
fn json_mode_prints_one_event_per_line() {
    let out = run(&["run", "--json", "-f", &example("conditional.workflow.yaml"), "please approve it"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"done"));
    let output = events.iter().find(|e| e["type"] == "output").expect("an output");
    assert_eq!(output["executor"], "approver");
    assert!(kinds.contains(&"agent_text"), "{kinds:?}");
}

#[test]
fn validate_reports_workflow_problems_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "kind: Workflow\nexecutors:\n  - id: a\n    agent: { kind: Prompt, name: a, model: { provider: scripted } }\n  - id: b\n    requst: ok?\nedges:\n  - from: a\n    to: c\n",
    )
    .unwrap();
    let out = run(&["validate", bad.to_str().unwrap(), &example("human_input.workflow.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("bad.yaml:6:5: unknown field `requst`"), "{stdout}");
    assert!(stdout.contains("did you mean `request`?"), "{stdout}");
    assert!(text(&out.stderr).contains("human_input.workflow.yaml: ok"), "{}", text(&out.stderr));
    let out = run(&["run", "-f", bad.to_str().unwrap(), "hi"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bad.yaml:6:5: unknown field `requst`"), "{}", text(&out.stderr));
}

#[test]
fn schema_workflow_prints_the_json_schema() {
    let out = run(&["schema", "workflow"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "Weft declarative workflow");
    assert!(schema["properties"]["orchestration"].is_object());
}

#[test]
fn a_files_own_file_checkpoints_resume_without_flags() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(example("human_input.workflow.yaml")).unwrap();
    let file = dir.path().join("durable.yaml");
    std::fs::write(&file, original.replace("start: writer", "start: writer\ncheckpoint: file:saved"))
        .unwrap();
    let file = file.to_str().unwrap();
    let first = run(&["run", "-f", file, "Draft a haiku"]);
    assert_eq!(first.status.code(), Some(1));
    let stderr = text(&first.stderr);
    let resume = format!("weft run -f {file} --resume ");
    assert!(stderr.contains(&resume), "{stderr}");
    let id = stderr.split(&resume).nth(1).and_then(|rest| rest.split('`').next()).unwrap().to_string();
    assert!(dir.path().join("saved").is_dir());
    let second = run_with_stdin(&["run", "-f", file, "--resume", &id], "no\n");
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout).trim(), "[shredder] shredder: You said: no");
}

#[test]
fn agent_flags_that_do_not_apply_to_workflows_are_usage_errors() {
    let out = run(&["run", "--max-iterations", "3", "-f", &example("conditional.workflow.yaml"), "hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--max-iterations does not apply to a workflow file"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["run", "--resume", "x", "-f", &example("weather.yaml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("apply to workflow files (-f) only"), "{}", text(&out.stderr));
}

#[test]
fn handoff_human_turns_and_plan_reviews_are_answered_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let handoff = dir.path().join("desk.yaml");
    let original = std::fs::read_to_string(example("handoff.workflow.yaml")).unwrap();
    std::fs::write(&handoff, format!("{original}humanInput: true\n")).unwrap();
    let out = run_with_stdin(
        &["run", "-f", handoff.to_str().unwrap(), "I have a billing question"],
        "and refunds?\n\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "[billing] billing: You said: I have a billing question",
            "[billing] and refunds?",
            "[billing] billing: You said: and refunds?",
        ]
    );
    let magentic = dir.path().join("review.yaml");
    let original = std::fs::read_to_string(example("magentic.workflow.yaml")).unwrap();
    std::fs::write(&magentic, format!("{original}planReview: true\n")).unwrap();
    let out = run_with_stdin(&["run", "-f", magentic.to_str().unwrap(), "Plan a team offsite"], "yes\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("approve it (empty or `yes`)"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("We are done with the request"), "{}", text(&out.stdout));
}

/// With the input on stdin (`-`), answers come from the terminal; without one (a new session,
/// as `setsid` makes), the run says so instead of waiting.
#[test]
fn with_the_input_on_stdin_and_no_terminal_the_run_says_so() {
    let mut command = std::process::Command::new("setsid");
    command.arg(env!("CARGO_BIN_EXE_weft"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OPENAI_") {
            command.env_remove(&name);
        }
    }
    let mut child = command
        .args(["run", "-f", &example("human_input.workflow.yaml"), "-"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setsid runs weft");
    child.stdin.take().unwrap().write_all(b"Draft a haiku\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no terminal could be read (the input came from stdin)"), "{stderr}");
    assert!(!stderr.contains("> "), "{stderr}");
}

#[test]
fn human_input_is_asked_on_a_terminal() {
    // `script` (util-linux) runs weft on a pseudo-terminal; the answer is typed after the
    // question shows.
    let weft = env!("CARGO_BIN_EXE_weft");
    let command = format!("{weft} run -f {} 'Draft a haiku'", example("human_input.workflow.yaml"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdout = stdout;
        let mut seen = String::new();
        let mut buffer = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
            let _ = sender.send(seen.clone());
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = String::new();
    while !seen.contains("Publish the draft? (yes/no)") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        seen = receiver.recv_timeout(left).unwrap_or_else(|_| panic!("no question on the terminal:\n{seen}"));
    }
    stdin.write_all(b"yes\r").unwrap();
    while !seen.contains("[publisher] publisher: You said: yes") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        seen = receiver.recv_timeout(left).unwrap_or_else(|_| panic!("no answer after `yes`:\n{seen}"));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "{seen}");
}
