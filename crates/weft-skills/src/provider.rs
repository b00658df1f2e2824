//! [`SkillsProvider`]: the context provider that gives an agent its skills by progressive
//! disclosure. Before each run it adds the skills' names and descriptions to the instructions,
//! and the tools `load_skill` (a skill's instructions), `read_skill_resource` (one of its
//! files) and, when scripts are allowed, `run_skill_script` (always behind approval).

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use weft_core::BoxError;
use weft_core::context::{AddedContext, ContextProvider, RunStart};
use weft_core::tool::{ApprovalMode, FunctionTool, Tool};

use crate::discover::SkillSet;
use crate::error::SkillError;
use crate::script::ScriptRunner;
use crate::skill::Skill;

/// The name of the tool that returns a skill's instructions.
pub const LOAD_SKILL: &str = "load_skill";
/// The name of the tool that reads one of a skill's resources.
pub const READ_SKILL_RESOURCE: &str = "read_skill_resource";
/// The name of the tool that runs one of a skill's scripts.
pub const RUN_SKILL_SCRIPT: &str = "run_skill_script";

/// Gives an agent skills ([`SkillSet`]) as a context provider: add it with
/// `ChatAgentBuilder::context_provider`, or `.skills(…)` from [`crate::SkillsExt`].
///
/// `load_skill` and `read_skill_resource` only read the skills' folders and run without
/// approval by default ([`SkillsProvider::approve_reads`] changes that); `run_skill_script` is
/// offered only with a [`ScriptRunner`] and each of its calls waits for the caller's approval.
pub struct SkillsProvider {
    skills: Arc<SkillSet>,
    instructions: String,
    tools: Vec<Arc<dyn Tool>>,
    runner: Option<Arc<ScriptRunner>>,
    approve_reads: bool,
}

impl std::fmt::Debug for SkillsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.skills.skills().iter().map(|s| s.name.as_str()).collect();
        f.debug_struct("SkillsProvider")
            .field("skills", &names)
            .field("scripts", &self.runner.is_some())
            .field("approve_reads", &self.approve_reads)
            .finish()
    }
}

impl From<SkillSet> for SkillsProvider {
    fn from(skills: SkillSet) -> Self {
        Self::new(skills)
    }
}

impl SkillsProvider {
    /// A provider of `skills`, scripts not allowed.
    pub fn new(skills: SkillSet) -> Self {
        let mut provider = Self {
            skills: Arc::new(skills),
            instructions: String::new(),
            tools: Vec::new(),
            runner: None,
            approve_reads: false,
        };
        provider.rebuild();
        provider
    }

    /// Allows the skills' scripts, run by `runner`: the model is offered `run_skill_script`,
    /// and each call is held for the caller's approval (the run ends with an approval request;
    /// see `AgentResponse::approval_requests`).
    pub fn scripts(mut self, runner: ScriptRunner) -> Self {
        self.runner = Some(Arc::new(runner));
        self.rebuild();
        self
    }

    /// Whether `load_skill` and `read_skill_resource` need approval too (default false).
    pub fn approve_reads(mut self, approve: bool) -> Self {
        self.approve_reads = approve;
        self.rebuild();
        self
    }

    /// The skills.
    pub fn skills(&self) -> &SkillSet {
        &self.skills
    }

    /// The instructions added to each run (empty without skills).
    pub fn instructions(&self) -> &str {
        &self.instructions
    }

    /// The tools added to each run.
    pub fn tools(&self) -> &[Arc<dyn Tool>] {
        &self.tools
    }

    fn rebuild(&mut self) {
        self.instructions = instructions(&self.skills, self.runner.is_some());
        let reads = if self.approve_reads { ApprovalMode::Always } else { ApprovalMode::Never };
        let scripts = self.runner.is_some();
        let skills = self.skills.clone();
        let load = FunctionTool::new(
            LOAD_SKILL,
            "Loads the full instructions of a skill, with the names of its resources (and scripts).",
            move |args: LoadSkillArgs| {
                let result = skills.get(&args.skill_name).map(|skill| load_text(skill, scripts));
                async move { result }
            },
        )
        .with_approval(reads.clone());
        let skills = self.skills.clone();
        let read = FunctionTool::new(
            READ_SKILL_RESOURCE,
            "Reads a resource of a skill (a reference, a template, data), by the name listed when the skill was loaded.",
            move |args: ReadResourceArgs| {
                let result = skills.read_resource(&args.skill_name, &args.resource_name);
                async move { result }
            },
        )
        .with_approval(reads);
        self.tools = vec![Arc::new(load), Arc::new(read)];
        if let Some(runner) = &self.runner {
            let skills = self.skills.clone();
            let runner = runner.clone();
            let run = FunctionTool::new(
                RUN_SKILL_SCRIPT,
                "Runs a script of a skill, by the name listed when the skill was loaded, with command-line arguments.",
                move |args: RunScriptArgs| {
                    let skills = skills.clone();
                    let runner = runner.clone();
                    async move {
                        let skill = skills.get(&args.skill_name)?;
                        let output = runner.run(skill, &args.script_name, &args.args).await?;
                        Ok::<_, SkillError>(output.to_model_text())
                    }
                },
            )
            .with_approval(ApprovalMode::Always);
            self.tools.push(Arc::new(run));
        }
    }
}

#[async_trait]
impl ContextProvider for SkillsProvider {
    fn name(&self) -> &str {
        "skills"
    }

    async fn before_run(&self, _run: RunStart<'_>) -> Result<AddedContext, BoxError> {
        if self.skills.is_empty() {
            return Ok(AddedContext::new());
        }
        let mut added = AddedContext::new().instruction(self.instructions.clone());
        for tool in &self.tools {
            added = added.tool(tool.clone());
        }
        Ok(added)
    }
}

#[derive(Deserialize, JsonSchema)]
struct LoadSkillArgs {
    /// The name of the skill to load, as listed in the instructions.
    skill_name: String,
}

#[derive(Deserialize, JsonSchema)]
struct ReadResourceArgs {
    /// The name of the skill.
    skill_name: String,
    /// The resource's name exactly as the loaded skill lists it (e.g. `references/table.md`).
    resource_name: String,
}

#[derive(Deserialize, JsonSchema)]
struct RunScriptArgs {
    /// The name of the skill.
    skill_name: String,
    /// The script's name exactly as the loaded skill lists it (e.g. `scripts/convert.py`).
    script_name: String,
    /// Command-line arguments, each a string (e.g. `["--value", "26.2"]`).
    #[serde(default)]
    args: Vec<String>,
}

/// The instructions that list the skills.
fn instructions(skills: &SkillSet, scripts: bool) -> String {
    if skills.is_empty() {
        return String::new();
    }
    let mut sorted: Vec<&Skill> = skills.skills().iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut text = String::from(
        "You have skills: folders of instructions, references and other resources for particular tasks.\n\n\
         <available_skills>\n",
    );
    for skill in sorted {
        text.push_str(&format!(
            "  <skill>\n    <name>{}</name>\n    <description>{}</description>\n  </skill>\n",
            escape(&skill.name),
            escape(&skill.description)
        ));
    }
    text.push_str(
        "</available_skills>\n\n\
         When a task matches a skill's description:\n\
         - call `load_skill` with the skill's name to get its instructions, and follow them;\n\
         - call `read_skill_resource` to read a resource the skill lists, with its name exactly as listed \
         (e.g. `references/table.md`, not `table.md`);\n",
    );
    if scripts {
        text.push_str(
            "- call `run_skill_script` to run a script the skill lists, with its name exactly as listed and its \
             command-line arguments as a list of strings in `args`;\n",
        );
    }
    text.push_str("Load only what the task needs, when it needs it.");
    text
}

/// What `load_skill` returns: the instructions, then the resources (and scripts) by name.
fn load_text(skill: &Skill, scripts: bool) -> String {
    let mut text = format!(
        "<skill name=\"{}\">\n<instructions>\n{}\n</instructions>\n",
        escape(&skill.name),
        skill.body.trim_end()
    );
    block(&mut text, "available_resources", "resource", &skill.resources);
    if scripts {
        block(&mut text, "available_scripts", "script", &skill.scripts);
    }
    text.push_str("</skill>");
    text
}

fn block(text: &mut String, tag: &str, item: &str, names: &[String]) {
    if names.is_empty() {
        text.push_str(&format!("<{tag} />\n"));
        return;
    }
    text.push_str(&format!("<{tag}>\n"));
    for name in names {
        text.push_str(&format!("  <{item} name=\"{}\"/>\n", escape(name)));
    }
    text.push_str(&format!("</{tag}>\n"));
}

/// XML escaping of text put in the prompt (names, descriptions).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
