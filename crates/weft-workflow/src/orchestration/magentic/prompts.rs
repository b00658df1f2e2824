//! The manager's prompts (our wording of Magentic-One's ledger-based orchestration).

use serde_json::{Value, json};

/// Lists the team, one participant a line.
pub(super) fn roster(participants: &[(String, String)]) -> String {
    participants
        .iter()
        .map(
            |(name, description)| {
                if description.is_empty() { format!("- {name}") } else { format!("- {name}: {description}") }
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn facts(task: &str) -> String {
    format!(
        "Before we begin on the request below, list what we know and what we must find out.\n\n\
         Request:\n{task}\n\n\
         Answer with four headed lists: 1. facts given in the request, 2. facts to look up \
         (and where), 3. facts to derive (by reasoning or computation), 4. educated guesses. \
         Do not plan yet."
    )
}

pub(super) fn plan(team: &str) -> String {
    format!(
        "Devise a short bullet-point plan for the request, using this team:\n{team}\n\n\
         Each step names the participant who takes it. Not every participant needs a step."
    )
}

pub(super) fn update_facts(task: &str, facts: &str) -> String {
    format!(
        "We have not made enough progress on the request below. Update the fact sheet with \
         what we learned so far: move educated guesses to facts when confirmed, add new \
         guesses, and keep the four headed lists.\n\nRequest:\n{task}\n\nCurrent fact sheet:\n{facts}"
    )
}

pub(super) fn update_plan(team: &str) -> String {
    format!(
        "Say briefly what went wrong, then devise a new bullet-point plan that avoids it, \
         using this team:\n{team}\n\nEach step names the participant who takes it."
    )
}

pub(super) fn task_ledger(task: &str, team: &str, facts: &str, plan: &str) -> String {
    format!(
        "We are working on this request:\n{task}\n\n\
         The team:\n{team}\n\n\
         What we know:\n{facts}\n\n\
         The plan:\n{plan}"
    )
}

pub(super) fn progress(task: &str, team: &str, names: &[String]) -> String {
    format!(
        "Recall the request:\n{task}\n\nThe team:\n{team}\n\n\
         To make progress, answer each question with a reason and an answer:\n\
         - is_request_satisfied: is the request fully answered (true), or is work left (false)?\n\
         - is_in_loop: are we repeating the same requests or answers (true)?\n\
         - is_progress_being_made: did the recent messages bring us closer (true), or are we \
         stuck or failing (false)?\n\
         - next_speaker: who acts next ({})?\n\
         - instruction_or_question: what do you ask of them, speaking to them directly with \
         everything they need?",
        names.join(", ")
    )
}

pub(super) fn final_answer(task: &str) -> String {
    format!(
        "We are done with the request:\n{task}\n\n\
         Using the conversation above, write the final answer to the request, for the person \
         who asked it: complete, and without mentioning the team or the plan."
    )
}

/// The JSON schema of [`super::ProgressLedger`], with the next speaker limited to the team.
pub(super) fn progress_schema(names: &[String]) -> Value {
    let entry = |answer: Value| {
        json!({
            "type": "object",
            "properties": {"reason": {"type": "string"}, "answer": answer},
            "required": ["reason", "answer"],
            "additionalProperties": false
        })
    };
    json!({
        "type": "object",
        "properties": {
            "is_request_satisfied": entry(json!({"type": "boolean"})),
            "is_in_loop": entry(json!({"type": "boolean"})),
            "is_progress_being_made": entry(json!({"type": "boolean"})),
            "next_speaker": entry(json!({"type": "string", "enum": names})),
            "instruction_or_question": entry(json!({"type": "string"})),
        },
        "required": [
            "is_request_satisfied", "is_in_loop", "is_progress_being_made",
            "next_speaker", "instruction_or_question"
        ],
        "additionalProperties": false
    })
}
