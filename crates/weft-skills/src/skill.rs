//! One skill: its `SKILL.md` frontmatter (the [Agent Skills specification]'s fields) and body,
//! and the resources and scripts found in its folder.
//!
//! [Agent Skills specification]: https://agentskills.io/specification

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::SkillError;

/// The longest skill name (characters).
pub const MAX_NAME_CHARS: usize = 64;
/// The longest description (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// The longest `compatibility` (characters).
pub const MAX_COMPATIBILITY_CHARS: usize = 500;

/// A skill found in a folder: what its `SKILL.md` says, and the files it may disclose.
#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    /// The name: lowercase letters, digits and single hyphens, the same as the folder's.
    pub name: String,
    /// What the skill does and when to use it (what the model sees before loading it).
    pub description: String,
    /// `license`, if given.
    pub license: Option<String>,
    /// `compatibility`: the environment it needs, if given.
    pub compatibility: Option<String>,
    /// `allowed-tools`: the tools the skill may use, space separated in the file (experimental
    /// in the specification; kept, not enforced).
    pub allowed_tools: Vec<String>,
    /// `metadata`: free key-value pairs.
    pub metadata: BTreeMap<String, String>,
    /// The instructions: the `SKILL.md` after its frontmatter.
    pub body: String,
    /// The skill's folder (canonical).
    pub folder: PathBuf,
    /// The resources the model may read, as paths relative to the folder with `/`
    /// (`references/table.md`), sorted.
    pub resources: Vec<String>,
    /// The scripts the model may ask to run (relative paths, sorted).
    pub scripts: Vec<String>,
}

impl Skill {
    /// The `SKILL.md` file.
    pub fn file(&self) -> PathBuf {
        self.folder.join(crate::SKILL_FILE)
    }
}

/// The frontmatter as written. Keys the specification does not define are ignored (other
/// tools add their own).
#[derive(Debug, Deserialize)]
struct Frontmatter {
    name: Option<String>,
    description: Option<String>,
    license: Option<String>,
    compatibility: Option<String>,
    #[serde(rename = "allowed-tools")]
    allowed_tools: Option<AllowedTools>,
    metadata: Option<BTreeMap<String, Value>>,
}

/// `allowed-tools`: space separated (the specification) or a list (some tools write one).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AllowedTools {
    Spaced(String),
    List(Vec<String>),
}

/// What a `SKILL.md` says: its frontmatter fields and body, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) license: Option<String>,
    pub(crate) compatibility: Option<String>,
    pub(crate) allowed_tools: Vec<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) body: String,
}

/// Parses and checks the text of the `SKILL.md` at `file`.
pub(crate) fn parse(text: &str, file: &Path) -> Result<Parsed, SkillError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim_end() != "---" {
        return Err(SkillError::MissingFrontmatter { file: file.to_path_buf() });
    }
    let mut yaml_len = 0;
    let mut closed = None;
    for line in lines {
        if line.trim_end() == "---" {
            closed = Some(first.len() + yaml_len + line.len());
            break;
        }
        yaml_len += line.len();
    }
    let Some(body_start) = closed else {
        return Err(SkillError::UnclosedFrontmatter { file: file.to_path_buf() });
    };
    let yaml = &text[first.len()..first.len() + yaml_len];
    let body = text[body_start..].trim_start_matches(['\r', '\n']).to_string();
    let front: Frontmatter = if yaml.trim().is_empty() {
        return Err(SkillError::MissingField { file: file.to_path_buf(), field: "name" });
    } else {
        serde_saphyr::from_str_with_options(yaml, yaml_options()).map_err(|error| {
            let location = error.location();
            let (line, column) = location.map(|l| (l.line() + 1, l.column())).unwrap_or((0, 0));
            let mut message = error.without_snippet().to_string();
            if let Some(l) = location {
                let suffix = format!(" at line {}, column {}", l.line(), l.column());
                message = message.strip_suffix(&suffix).unwrap_or(&message).to_string();
            }
            SkillError::InvalidFrontmatter { file: file.to_path_buf(), line, column, message }
        })?
    };
    let required = |value: Option<String>, field| match value {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(SkillError::MissingField { file: file.to_path_buf(), field }),
    };
    let name = required(front.name, "name")?;
    check_name(&name, file)?;
    let description = required(front.description, "description")?;
    check_length(file, "description", &description, MAX_DESCRIPTION_CHARS)?;
    if let Some(compatibility) = &front.compatibility {
        check_length(file, "compatibility", compatibility, MAX_COMPATIBILITY_CHARS)?;
    }
    let allowed_tools = match front.allowed_tools {
        Some(AllowedTools::Spaced(text)) => text.split_whitespace().map(String::from).collect(),
        Some(AllowedTools::List(list)) => list,
        None => Vec::new(),
    };
    let mut metadata = BTreeMap::new();
    for (key, value) in front.metadata.unwrap_or_default() {
        let text = match value {
            Value::String(s) => s,
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            Value::Null => String::new(),
            Value::Array(_) | Value::Object(_) => {
                return Err(SkillError::InvalidFrontmatter {
                    file: file.to_path_buf(),
                    line: 0,
                    column: 0,
                    message: format!("metadata `{key}` is not a string: metadata maps keys to strings"),
                });
            }
        };
        metadata.insert(key, text);
    }
    Ok(Parsed {
        name,
        description,
        license: front.license,
        compatibility: front.compatibility,
        allowed_tools,
        metadata,
        body,
    })
}

/// Small budgets: a frontmatter is a few lines, and a hostile one must fail fast.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: 0,
            max_anchors: 0,
            max_events: 10_000,
            max_depth: 8,
            max_documents: 1,
            max_nodes: 5_000,
        },
    }
}

/// The specification's name rules: 1 to 64 characters, lowercase letters, digits and
/// hyphens, no hyphen first, last or twice in a row.
fn check_name(name: &str, file: &Path) -> Result<(), SkillError> {
    let invalid =
        |reason| Err(SkillError::InvalidName { file: file.to_path_buf(), name: name.into(), reason });
    if name.chars().count() > MAX_NAME_CHARS {
        return invalid("longer than 64 characters");
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return invalid("only lowercase letters, digits and hyphens are allowed");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return invalid("it must not begin or end with a hyphen");
    }
    if name.contains("--") {
        return invalid("it must not hold two hyphens in a row");
    }
    Ok(())
}

fn check_length(file: &Path, field: &'static str, value: &str, limit: usize) -> Result<(), SkillError> {
    let length = value.chars().count();
    if length > limit {
        return Err(SkillError::FieldTooLong { file: file.to_path_buf(), field, length, limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parsed(text: &str) -> Result<Parsed, SkillError> {
        parse(text, Path::new("skills/demo/SKILL.md"))
    }

    #[test]
    fn every_field_of_the_specification_is_read() {
        let text = "---\nname: unit-converter\ndescription: >\n  Converts units.\n  Use for miles.\nlicense: MIT\n\
                    compatibility: any model\nallowed-tools: convert read\nmetadata:\n  author: weft\n  version: 1.0\n\
                    x-other-tool: ignored\n---\n\n# Usage\nDo it.\n";
        let p = parsed(text).unwrap();
        assert_eq!(p.name, "unit-converter");
        assert_eq!(p.description, "Converts units. Use for miles.");
        assert_eq!(p.license.as_deref(), Some("MIT"));
        assert_eq!(p.compatibility.as_deref(), Some("any model"));
        assert_eq!(p.allowed_tools, ["convert", "read"]);
        assert_eq!(p.metadata["author"], "weft");
        assert_eq!(p.metadata["version"], "1.0");
        assert_eq!(p.body, "# Usage\nDo it.\n");
    }

    #[test]
    fn a_bom_and_crlf_lines_are_accepted() {
        let p = parsed("\u{feff}---\r\nname: a\r\ndescription: b\r\n---\r\nbody\r\n").unwrap();
        assert_eq!((p.name.as_str(), p.description.as_str(), p.body.as_str()), ("a", "b", "body\r\n"));
    }

    #[test]
    fn each_bad_frontmatter_is_its_own_error_naming_the_file() {
        let cases: [(&str, &str); 9] = [
            ("# no frontmatter\n", "no YAML frontmatter"),
            ("---\nname: a\ndescription: b\n", "not closed"),
            ("---\ndescription: b\n---\n", "has no `name`"),
            ("---\nname: a\n---\n", "has no `description`"),
            ("---\nname: a\ndescription: \"  \"\n---\n", "has no `description`"),
            ("---\nname: Bad_Name\ndescription: b\n---\n", "only lowercase letters"),
            ("---\nname: -a\ndescription: b\n---\n", "begin or end with a hyphen"),
            ("---\nname: a--b\ndescription: b\n---\n", "two hyphens"),
            ("---\nname: a\ndescription: [unclosed\n---\n", "invalid frontmatter"),
        ];
        for (text, expected) in cases {
            let error = parsed(text).unwrap_err().to_string();
            assert!(error.starts_with("skills/demo/SKILL.md"), "{error}");
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        let long = format!("---\nname: a\ndescription: {}\n---\n", "x".repeat(1025));
        assert!(matches!(
            parsed(&long),
            Err(SkillError::FieldTooLong { field: "description", length: 1025, limit: 1024, .. })
        ));
        let long = format!("---\nname: {}\ndescription: b\n---\n", "a".repeat(65));
        assert!(matches!(parsed(&long), Err(SkillError::InvalidName { .. })));
    }

    #[test]
    fn a_yaml_error_is_placed_on_the_files_line() {
        let error = parsed("---\nname: a\ndescription: b\nmetadata: [1, 2\n---\n").unwrap_err();
        let SkillError::InvalidFrontmatter { line, .. } = error else { panic!("{error}") };
        assert_eq!(line, 4, "the line in SKILL.md, counting the opening `---`");
    }
}
