//! Agent Skills: a folder with a `SKILL.md` (name, description, instructions) and the files it
//! refers to. The agent's instructions list the skills; the model loads one with `load_skill`
//! and reads its files with `read_skill_resource` when it needs them.
//!
//! `cargo run -p weft --example skills --features skills`

mod common;

use std::path::Path;

use weft::prelude::*;
use weft::skills::{SkillSet, SkillsExt};

#[tokio::main]
async fn main() -> Result<(), weft::BoxError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/skills");
    let skills = SkillSet::from_dir(dir)?;
    for skill in skills.skills() {
        println!("skill: {} ({} resource(s))", skill.name, skill.resources.len());
    }
    let agent =
        ChatAgent::builder(common::chat_client()).instructions("You answer briefly.").skills(skills).build();

    // A real model finds the skill from its description; the scripted model needs the names
    // spelled out.
    let prompt = "How many kilometres is a marathon of 26.2 miles? \
                  Use the skill name: unit-converter, resource name: references/conversion-table.md";
    let response = agent.run(&mut AgentSession::new(), prompt).await?;
    for message in &response.messages {
        for call in message.function_calls() {
            println!("called {} {}", call.name, call.arguments);
        }
        for result in message.function_results() {
            let text = result.to_model_text();
            let first = text.lines().next().unwrap_or_default();
            println!("  -> {first} ({} lines)", text.lines().count());
        }
    }
    println!("answer: {}", response.text());
    Ok(())
}
