//! # weft-skills
//!
//! [Agent Skills](https://agentskills.io/specification) for Weft agents, as Microsoft Agent
//! Framework gives them: a skill is a folder with a `SKILL.md` (YAML frontmatter with `name`
//! and `description`, then markdown instructions) and the files it uses (`references/`,
//! `assets/`, `scripts/`).
//!
//! ```text
//! skills/
//! └── unit-converter/
//!     ├── SKILL.md                    ---\nname: unit-converter\ndescription: …\n---\n# instructions
//!     ├── references/conversion-table.md
//!     └── scripts/convert.sh
//! ```
//!
//! Skills are disclosed progressively, with MAF's tool names:
//! 1. the skills' names and descriptions are added to the agent's instructions;
//! 2. `load_skill` returns a skill's instructions and the names of its resources;
//! 3. `read_skill_resource` returns one resource's text, bounded in size and confined to the
//!    skill's folder (no `..`, no absolute path, no symbolic link, checked again at each read);
//! 4. with a [`ScriptRunner`], `run_skill_script` runs a script: every call waits for the
//!    caller's approval, then runs as a child process in the skill's folder with a time limit,
//!    bounded output and a cleared environment; its process group is killed when the run is
//!    cancelled.
//!
//! ```no_run
//! use std::sync::Arc;
//! use weft_core::{AgentSession, ChatAgent, ScriptedClient};
//! use weft_skills::{SkillSet, SkillsExt};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
//!     .skills(SkillSet::from_dir("skills")?)
//!     .build();
//! let answer = agent.run(&mut AgentSession::new(), "Convert 26.2 miles to kilometres").await?;
//! # Ok(()) }
//! ```
//!
//! A bad `SKILL.md` (no frontmatter, no `name` or `description`, a name that breaks the
//! specification's rules or differs from its folder's, a file over the size limit) is a
//! [`SkillError`] naming the file; [`SkillLoader::skip_invalid`] skips such skills instead.
//!
//! ## Placement
//!
//! Skills read folders and start processes, and bring a YAML parser: they live beside
//! `weft-core` (whose [`ContextProvider`](weft_core::context::ContextProvider) trait they
//! implement) rather than in it, so that model providers built on the core do not carry them.

mod discover;
mod error;
mod provider;
pub mod script;
mod skill;

use std::sync::Arc;

use weft_core::agent::ChatAgentBuilder;

pub use discover::{
    DEFAULT_RESOURCE_EXTENSIONS, MAX_DISCOVERY_DEPTH, MAX_FILES_PER_SKILL, SkillLoader, SkillSet,
};
pub use error::SkillError;
pub use provider::{LOAD_SKILL, READ_SKILL_RESOURCE, RUN_SKILL_SCRIPT, SkillsProvider};
pub use script::{ScriptOutput, ScriptRunner};
pub use skill::{MAX_COMPATIBILITY_CHARS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, Skill};

/// The file that makes a folder a skill.
pub const SKILL_FILE: &str = "SKILL.md";
/// The default size limit of a `SKILL.md` (256 KiB).
pub const DEFAULT_MAX_SKILL_FILE_BYTES: u64 = 256 * 1024;
/// The default size limit of a resource read (256 KiB).
pub const DEFAULT_MAX_RESOURCE_BYTES: u64 = 256 * 1024;

/// `.skills(…)` on an agent builder: adds a [`SkillsProvider`] (from a [`SkillSet`], or a
/// provider configured with scripts) as a context provider.
pub trait SkillsExt {
    /// Gives the agent these skills.
    fn skills(self, skills: impl Into<SkillsProvider>) -> Self;
}

impl SkillsExt for ChatAgentBuilder {
    fn skills(self, skills: impl Into<SkillsProvider>) -> Self {
        self.context_provider(Arc::new(skills.into()))
    }
}
