//! What the CLI tests share: the `weft` binary in a clean environment, and output as text.
// Each test binary uses its own part of this.
#![allow(dead_code, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

/// The `weft` binary with every variable that changes what it does removed: `OPENAI_*` and
/// `ANTHROPIC_*`, `GEMINI_*` and `GOOGLE_*` (so it picks the scripted model), `AWS_*`, `BEDROCK_*`, `AZURE_*`, `FOUNDRY_*`, `IDENTITY_*`, `OTEL_*`, `RUST_LOG`, `WEFT_TOKEN`, `WEFT_HOST`, `WEFT_HISTORY`
/// and `PORT`;
/// stdin is empty.
pub fn weft() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if [
            "OPENAI_",
            "ANTHROPIC_",
            "GEMINI_",
            "GOOGLE_",
            "OLLAMA_",
            "OTEL_",
            "AWS_",
            "BEDROCK_",
            "AZURE_",
            "FOUNDRY_",
            "IDENTITY_",
        ]
        .iter()
        .any(|prefix| text.starts_with(prefix))
        {
            command.env_remove(&name);
        }
    }
    for name in ["RUST_LOG", "WEFT_TOKEN", "WEFT_HOST", "WEFT_HISTORY", "PORT"] {
        command.env_remove(name);
    }
    command.stdin(Stdio::null());
    command
}

/// `weft ARGS`, run to the end.
pub fn run(args: &[&str]) -> Output {
    weft().args(args).output().expect("the weft binary runs")
}

/// Bytes of an output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
