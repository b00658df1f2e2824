//! [`SkillError`]: why a skill could not be loaded, read or run, naming the file or the skill.

use std::path::PathBuf;
use std::time::Duration;

/// Why skills could not be discovered, or a skill's resource read or script run. Each variant
/// names the file (for a bad `SKILL.md` or folder) or the skill and resource (for a read).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkillError {
    /// A file or folder could not be read.
    #[error("{}: could not read: {source}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A skills directory given to the loader is not a directory.
    #[error("{}: not a directory of skills", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A `SKILL.md` does not begin with YAML frontmatter (`---` lines).
    #[error("{}: no YAML frontmatter: the file must begin with a `---` line, then `name:` and `description:`, then a `---` line", file.display())]
    MissingFrontmatter {
        /// The `SKILL.md`.
        file: PathBuf,
    },
    /// A `SKILL.md`'s frontmatter has no closing `---` line.
    #[error("{}: the YAML frontmatter is not closed by a `---` line", file.display())]
    UnclosedFrontmatter {
        /// The `SKILL.md`.
        file: PathBuf,
    },
    /// A `SKILL.md`'s frontmatter is not valid YAML of the expected shape.
    #[error("{}:{line}:{column}: invalid frontmatter: {message}", file.display())]
    InvalidFrontmatter {
        /// The `SKILL.md`.
        file: PathBuf,
        /// The line in the file, from 1 (0 when unknown).
        line: u64,
        /// The column, from 1 (0 when unknown).
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A required frontmatter field (`name`, `description`) is missing or empty.
    #[error("{}: the frontmatter has no `{field}`", file.display())]
    MissingField {
        /// The `SKILL.md`.
        file: PathBuf,
        /// The field.
        field: &'static str,
    },
    /// The `name` breaks the specification's rules.
    #[error("{}: invalid skill name `{name}`: {reason}", file.display())]
    InvalidName {
        /// The `SKILL.md`.
        file: PathBuf,
        /// The name given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The `name` differs from the skill's folder name (the specification requires them equal).
    #[error("{}: the skill is named `{name}` but its folder is `{folder}`: they must be the same", file.display())]
    NameMismatch {
        /// The `SKILL.md`.
        file: PathBuf,
        /// The frontmatter's name.
        name: String,
        /// The folder's name.
        folder: String,
    },
    /// A frontmatter field is longer than the specification allows.
    #[error("{}: `{field}` is {length} characters, over the limit of {limit}", file.display())]
    FieldTooLong {
        /// The `SKILL.md`.
        file: PathBuf,
        /// The field.
        field: &'static str,
        /// Its length in characters.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// A file (a `SKILL.md` or a resource) is larger than its limit.
    #[error("{}: over the limit of {limit} bytes", file.display())]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A file is not UTF-8 text.
    #[error("{}: not UTF-8 text", file.display())]
    NotText {
        /// The file.
        file: PathBuf,
    },
    /// A skill folder holds more files than the loader lists.
    #[error("{}: more than {limit} files: not listed", folder.display())]
    TooManyFiles {
        /// The skill's folder.
        folder: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// Two skills have the same name.
    #[error("two skills are named `{name}`: {} and {}", first.display(), second.display())]
    Duplicate {
        /// The name.
        name: String,
        /// The first skill's `SKILL.md`.
        first: PathBuf,
        /// The second's.
        second: PathBuf,
    },
    /// No skill has this name.
    #[error("no skill is named `{name}`; the skills are: {available}")]
    UnknownSkill {
        /// The name asked for.
        name: String,
        /// The names of the skills, comma separated.
        available: String,
    },
    /// The skill has no resource of this name.
    #[error("skill `{skill}` has no resource `{resource}`; its resources are: {available}")]
    UnknownResource {
        /// The skill.
        skill: String,
        /// The resource asked for.
        resource: String,
        /// The skill's resources, comma separated.
        available: String,
    },
    /// The skill has no script of this name.
    #[error("skill `{skill}` has no script `{script}`; its scripts are: {available}")]
    UnknownScript {
        /// The skill.
        skill: String,
        /// The script asked for.
        script: String,
        /// The skill's scripts, comma separated.
        available: String,
    },
    /// A path leaves the skill's folder: `..`, an absolute path, or a symbolic link.
    #[error("skill `{skill}`: `{path}` is outside the skill's folder ({reason})")]
    OutsideSkill {
        /// The skill.
        skill: String,
        /// The path asked for.
        path: String,
        /// How it leaves the folder.
        reason: &'static str,
    },
    /// A script has no interpreter for its file extension.
    #[error("skill `{skill}`: no interpreter runs `{script}`")]
    NoInterpreter {
        /// The skill.
        skill: String,
        /// The script.
        script: String,
    },
    /// A script could not be started.
    #[error("skill `{skill}`: could not start `{program}` for `{script}`: {source}")]
    ScriptSpawn {
        /// The skill.
        skill: String,
        /// The script.
        script: String,
        /// The program run.
        program: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A script ran over its time limit and was killed.
    #[error("skill `{skill}`: script `{script}` ran over {timeout:?} and was killed")]
    ScriptTimeout {
        /// The skill.
        skill: String,
        /// The script.
        script: String,
        /// The limit.
        timeout: Duration,
    },
    /// A script exited with a failure status.
    #[error("skill `{skill}`: script `{script}` exited with {status}{}", output_suffix(.output))]
    ScriptFailed {
        /// The skill.
        skill: String,
        /// The script.
        script: String,
        /// The exit status as text (`code 2`, `signal 9`).
        status: String,
        /// Its output (stdout, then stderr), bounded.
        output: String,
    },
}

fn output_suffix(output: &str) -> String {
    if output.trim().is_empty() { String::new() } else { format!(":\n{}", output.trim_end()) }
}
