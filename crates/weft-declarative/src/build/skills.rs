//! `skills:`: the agent's Agent Skills folders, found and checked when the file is, and given
//! to the agent as a [`SkillsProvider`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_saphyr::Spanned;
use weft_skills::{ScriptRunner, SkillError, SkillLoader, SkillsProvider};

use crate::env::Checker;
use crate::spec::{SkillsSpec, Text};

/// The provider of `skills:`, or `None` after recording its problems (each at the path it
/// comes from).
pub(super) fn skills_provider(
    spanned: &Spanned<SkillsSpec>,
    checker: &mut Checker<'_>,
) -> Option<SkillsProvider> {
    let spec = &spanned.value;
    let at = &Text::new(String::new(), spanned.referenced, spanned.defined);
    if spec.paths.is_empty() {
        checker.at(at, "`skills.paths` is empty: give at least one directory of skills");
        return None;
    }
    let base = checker.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut dirs: Vec<(PathBuf, &Text)> = Vec::new();
    for text in &spec.paths {
        let value = checker.resolve(text)?;
        let path = Path::new(&value);
        dirs.push((if path.is_absolute() { path.to_path_buf() } else { base.join(path) }, text));
    }
    // Each directory alone first, so that a problem points at the path it comes from.
    let mut failed = false;
    for (dir, text) in &dirs {
        if let Err(error) = SkillLoader::new().dir(dir).load() {
            checker.at(text, problem(&error));
            failed = true;
        }
    }
    if failed {
        return None;
    }
    let loader = dirs.iter().fold(SkillLoader::new(), |loader, (dir, _)| loader.dir(dir));
    let skills = match loader.load() {
        Ok(skills) => skills,
        Err(error) => {
            // A name found in two directories: at the later one.
            let text = match &error {
                SkillError::Duplicate { second, .. } => {
                    dirs.iter().rev().find(|(dir, _)| second.starts_with(canonical(dir))).map(|(_, t)| *t)
                }
                _ => None,
            };
            checker.at(text.unwrap_or(&spec.paths[0]), problem(&error));
            return None;
        }
    };
    let mut provider = SkillsProvider::new(skills).approve_reads(spec.approve_reads);
    if spec.scripts {
        let mut runner = ScriptRunner::new();
        if let Some(seconds) = spec.script_timeout {
            runner = runner.timeout(Duration::from_secs(seconds.max(1)));
        }
        provider = provider.scripts(runner);
    } else if spec.script_timeout.is_some() {
        checker.at(at, "`skills.scriptTimeout` is given but `skills.scripts` is not true");
    }
    Some(provider)
}

fn problem(error: &SkillError) -> String {
    format!("skills: {error}")
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}
