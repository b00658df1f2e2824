//! Running skill scripts: arguments, failures, time limits, bounded output, a clean
//! environment, and the whole process group killed when the call is dropped.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use weft_skills::{ScriptRunner, SkillError, SkillSet};

fn skill_with(script: &str) -> (tempfile::TempDir, SkillSet) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("runner");
    fs::create_dir_all(folder.join("scripts")).unwrap();
    fs::write(folder.join("SKILL.md"), "---\nname: runner\ndescription: runs\n---\nRun it.\n").unwrap();
    fs::write(folder.join("scripts/run.sh"), script).unwrap();
    let set = SkillSet::from_dir(dir.path()).unwrap();
    (dir, set)
}

/// Whether a process is gone (or a zombie waiting for its parent).
fn gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

async fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn pid_in(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[tokio::test]
async fn a_script_gets_its_arguments_and_runs_in_its_folder() {
    let (_dir, set) = skill_with("echo \"args: $1 $2\"; pwd; echo warn >&2");
    let skill = set.get("runner").unwrap();
    let output = ScriptRunner::new().run(skill, "scripts/run.sh", &["a b".into(), "c".into()]).await.unwrap();
    assert_eq!(output.stdout, format!("args: a b c\n{}\n", skill.folder.display()));
    assert_eq!(output.to_model_text(), format!("args: a b c\n{}\nstderr:\nwarn", skill.folder.display()));
}

#[tokio::test]
async fn a_failing_script_is_an_error_with_its_output() {
    let (_dir, set) = skill_with("echo partial; echo broken >&2; exit 3");
    let error = ScriptRunner::new().run(set.get("runner").unwrap(), "scripts/run.sh", &[]).await.unwrap_err();
    let SkillError::ScriptFailed { status, output, .. } = &error else { panic!("{error}") };
    assert_eq!(status, "code 3");
    assert_eq!(output, "partial\nstderr:\nbroken");
}

#[tokio::test]
async fn unknown_and_escaping_scripts_are_refused() {
    let (_dir, set) = skill_with("echo hi");
    let skill = set.get("runner").unwrap();
    let runner = ScriptRunner::new();
    assert!(matches!(runner.run(skill, "scripts/nope.sh", &[]).await, Err(SkillError::UnknownScript { .. })));
    assert!(matches!(runner.run(skill, "../../bin/sh", &[]).await, Err(SkillError::OutsideSkill { .. })));
}

#[tokio::test]
async fn the_environment_is_cleared_but_for_what_is_passed() {
    // SAFETY-free: set_var is unsafe in edition 2024, so the variable comes from the runner.
    let (_dir, set) = skill_with("echo \"path=${PATH:+set} given=$GIVEN cargo=${CARGO_PKG_NAME:-unset}\"");
    let output = ScriptRunner::new()
        .env("GIVEN", "yes")
        .run(set.get("runner").unwrap(), "scripts/run.sh", &[])
        .await
        .unwrap();
    // Cargo sets CARGO_PKG_NAME for the test; the script must not see it.
    assert_eq!(output.stdout, "path=set given=yes cargo=unset\n");
}

#[tokio::test]
async fn output_is_bounded() {
    let (_dir, set) = skill_with("i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done");
    let output = ScriptRunner::new()
        .max_output_bytes(100)
        .run(set.get("runner").unwrap(), "scripts/run.sh", &[])
        .await
        .unwrap();
    assert_eq!(output.stdout.len(), 100);
    assert!(output.truncated);
    assert!(output.to_model_text().ends_with("[output truncated]"));
}

#[tokio::test]
async fn a_script_over_its_time_is_killed_with_what_it_started() {
    let (dir, set) = skill_with("sleep 30 & echo $! > \"$1\"; echo $$ > \"$2\"; wait");
    let (child_file, script_file) = (dir.path().join("child.pid"), dir.path().join("script.pid"));
    let args = [child_file.display().to_string(), script_file.display().to_string()];
    let started = Instant::now();
    let error = ScriptRunner::new()
        .timeout(Duration::from_millis(500))
        .run(set.get("runner").unwrap(), "scripts/run.sh", &args)
        .await
        .unwrap_err();
    assert!(matches!(error, SkillError::ScriptTimeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let (child, script) = (pid_in(&child_file).unwrap(), pid_in(&script_file).unwrap());
    assert!(wait_gone(script).await, "the script survived");
    assert!(wait_gone(child).await, "the script's background child survived");
}

#[tokio::test]
async fn dropping_the_call_kills_the_script_and_its_children() {
    let (dir, set) = skill_with("sleep 30 & echo $! > \"$1\"; echo $$ > \"$2\"; wait");
    let (child_file, script_file) = (dir.path().join("child.pid"), dir.path().join("script.pid"));
    let args = [child_file.display().to_string(), script_file.display().to_string()];
    let runner = ScriptRunner::new();
    let skill = set.get("runner").unwrap();
    let run = runner.run(skill, "scripts/run.sh", &args);
    // The caller gives up (a cancelled run drops its tool calls the same way).
    let outcome = tokio::time::timeout(Duration::from_millis(500), run).await;
    assert!(outcome.is_err(), "the script ended on its own: {outcome:?}");
    let (child, script) = (pid_in(&child_file).unwrap(), pid_in(&script_file).unwrap());
    assert!(wait_gone(script).await, "the script survived its call");
    assert!(wait_gone(child).await, "the script's background child survived its call");
}

#[tokio::test]
async fn background_processes_do_not_hold_a_finished_script() {
    let (dir, set) = skill_with("sleep 30 & echo $! > \"$1\"; echo finished");
    let child_file = dir.path().join("child.pid");
    let started = Instant::now();
    let output = ScriptRunner::new()
        .run(set.get("runner").unwrap(), "scripts/run.sh", &[child_file.display().to_string()])
        .await
        .unwrap();
    assert_eq!(output.stdout, "finished\n");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(wait_gone(pid_in(&child_file).unwrap()).await, "the background child survived");
}
