//! Finding skills in folders ([`SkillLoader`]) and reading their resources confined to each
//! skill's folder ([`SkillSet::read_resource`]).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::SkillError;
use crate::skill::{Skill, parse};
use crate::{DEFAULT_MAX_RESOURCE_BYTES, DEFAULT_MAX_SKILL_FILE_BYTES, SKILL_FILE};

/// How deep below a given directory a `SKILL.md` is looked for: the directory itself and its
/// children (`skills/unit-converter/SKILL.md`) or grandchildren (`skills/team/a/SKILL.md`).
pub const MAX_DISCOVERY_DEPTH: usize = 2;
/// The most files listed in one skill's folder.
pub const MAX_FILES_PER_SKILL: usize = 1000;
/// The resource extensions listed by default (those of text the model can read).
pub const DEFAULT_RESOURCE_EXTENSIONS: &[&str] = &["md", "txt", "json", "yaml", "yml", "csv", "xml"];

/// Finds skills in directories: each folder with a `SKILL.md` (at most
/// [`MAX_DISCOVERY_DEPTH`] levels below a directory given) is a skill; a folder that is a
/// skill is not searched for more. Symbolic links below a given directory are never followed.
#[derive(Debug, Clone)]
pub struct SkillLoader {
    dirs: Vec<PathBuf>,
    max_skill_file_bytes: u64,
    max_resource_bytes: u64,
    resource_extensions: Vec<String>,
    script_extensions: Vec<String>,
    depth: usize,
    skip_invalid: bool,
}

impl Default for SkillLoader {
    fn default() -> Self {
        Self {
            dirs: Vec::new(),
            max_skill_file_bytes: DEFAULT_MAX_SKILL_FILE_BYTES,
            max_resource_bytes: DEFAULT_MAX_RESOURCE_BYTES,
            resource_extensions: DEFAULT_RESOURCE_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            script_extensions: crate::script::DEFAULT_INTERPRETERS
                .iter()
                .map(|(e, _)| e.to_string())
                .collect(),
            depth: 2,
            skip_invalid: false,
        }
    }
}

impl SkillLoader {
    /// A loader with no directories and the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory to search: a skill folder itself, or a folder of skill folders.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// The largest `SKILL.md` read (default [`DEFAULT_MAX_SKILL_FILE_BYTES`]); a bigger one is
    /// an error.
    pub fn max_skill_file_bytes(mut self, bytes: u64) -> Self {
        self.max_skill_file_bytes = bytes;
        self
    }

    /// The largest resource read (default [`DEFAULT_MAX_RESOURCE_BYTES`]); reading a bigger one
    /// is an error the model is shown.
    pub fn max_resource_bytes(mut self, bytes: u64) -> Self {
        self.max_resource_bytes = bytes;
        self
    }

    /// The file extensions listed as resources (default [`DEFAULT_RESOURCE_EXTENSIONS`]).
    pub fn resource_extensions<S: Into<String>>(mut self, extensions: impl IntoIterator<Item = S>) -> Self {
        self.resource_extensions = extensions.into_iter().map(Into::into).collect();
        self
    }

    /// The file extensions listed as scripts (default: those of
    /// [`crate::script::DEFAULT_INTERPRETERS`], `py` and `sh`). Give the runner an interpreter
    /// for each ([`crate::ScriptRunner::interpreter`]).
    pub fn script_extensions<S: Into<String>>(mut self, extensions: impl IntoIterator<Item = S>) -> Self {
        self.script_extensions = extensions.into_iter().map(Into::into).collect();
        self
    }

    /// How many folder levels of a skill are listed: 1 is the skill's folder only, 2 (the
    /// default) adds its subfolders (`references/`, `scripts/`, `assets/`).
    pub fn file_depth(mut self, depth: usize) -> Self {
        self.depth = depth.max(1);
        self
    }

    /// Skips a skill whose `SKILL.md` is bad (logging a warning; [`SkillSet::skipped`] keeps
    /// the errors) instead of failing the whole load.
    pub fn skip_invalid(mut self, skip: bool) -> Self {
        self.skip_invalid = skip;
        self
    }

    /// Finds and reads the skills. Fails on an unreadable directory, and (unless
    /// [`SkillLoader::skip_invalid`]) on the first bad `SKILL.md` or duplicate name.
    pub fn load(&self) -> Result<SkillSet, SkillError> {
        let mut skills: Vec<Skill> = Vec::new();
        let mut skipped = Vec::new();
        for dir in &self.dirs {
            let metadata =
                std::fs::metadata(dir).map_err(|source| SkillError::Read { path: dir.clone(), source })?;
            if !metadata.is_dir() {
                return Err(SkillError::NotADirectory { path: dir.clone() });
            }
            let mut folders = Vec::new();
            find_skill_folders(dir, 0, &mut folders)?;
            for folder in folders {
                let loaded = self.load_skill(&folder).and_then(|skill| {
                    match skills.iter().find(|s| s.name == skill.name) {
                        Some(first) => Err(SkillError::Duplicate {
                            name: skill.name.clone(),
                            first: first.file(),
                            second: skill.file(),
                        }),
                        None => Ok(skill),
                    }
                });
                match loaded {
                    Ok(skill) => skills.push(skill),
                    Err(error) if self.skip_invalid => {
                        tracing::warn!(%error, "skill skipped");
                        skipped.push(error);
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(SkillSet { skills, skipped, max_resource_bytes: self.max_resource_bytes })
    }

    fn load_skill(&self, folder: &Path) -> Result<Skill, SkillError> {
        let file = folder.join(SKILL_FILE);
        let text = read_bounded(&file, self.max_skill_file_bytes, false)?;
        let parsed = parse(&text, &file)?;
        let folder_name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if parsed.name != folder_name {
            return Err(SkillError::NameMismatch { file, name: parsed.name, folder: folder_name });
        }
        let canonical = std::fs::canonicalize(folder)
            .map_err(|source| SkillError::Read { path: folder.into(), source })?;
        let mut files = Vec::new();
        list_files(&canonical, &canonical, 1, self.depth, &mut files)?;
        let has = |extensions: &[String], path: &str| {
            Path::new(path)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
        };
        let scripts: Vec<String> =
            files.iter().filter(|f| has(&self.script_extensions, f)).cloned().collect();
        let resources = files
            .into_iter()
            .filter(|f| has(&self.resource_extensions, f) && !scripts.contains(f) && f != SKILL_FILE)
            .collect();
        Ok(Skill {
            name: parsed.name,
            description: parsed.description,
            license: parsed.license,
            compatibility: parsed.compatibility,
            allowed_tools: parsed.allowed_tools,
            metadata: parsed.metadata,
            body: parsed.body,
            folder: canonical,
            resources,
            scripts,
        })
    }
}

/// The folders below `dir` (itself included) that hold a `SKILL.md`, not following links.
fn find_skill_folders(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), SkillError> {
    let skill_file = dir.join(SKILL_FILE);
    if let Ok(metadata) = std::fs::symlink_metadata(&skill_file) {
        if metadata.is_file() {
            found.push(dir.to_path_buf());
        } else {
            tracing::warn!(file = %skill_file.display(), "SKILL.md is not a regular file: skipped");
        }
        return Ok(());
    }
    if depth >= MAX_DISCOVERY_DEPTH {
        return Ok(());
    }
    for entry in sorted_entries(dir)? {
        let Ok(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() && !is_hidden(&entry.file_name()) {
            find_skill_folders(&entry.path(), depth + 1, found)?;
        }
    }
    Ok(())
}

/// The regular files of a skill's folder, as `/`-separated paths relative to `root`, sorted;
/// symbolic links and hidden entries are left out.
fn list_files(
    root: &Path,
    dir: &Path,
    depth: usize,
    max_depth: usize,
    files: &mut Vec<String>,
) -> Result<(), SkillError> {
    for entry in sorted_entries(dir)? {
        let Ok(file_type) = entry.file_type() else { continue };
        if is_hidden(&entry.file_name()) || file_type.is_symlink() {
            continue;
        }
        let path = entry.path();
        if file_type.is_dir() {
            if depth < max_depth {
                list_files(root, &path, depth + 1, max_depth, files)?;
            }
        } else if file_type.is_file() {
            if files.len() >= MAX_FILES_PER_SKILL {
                return Err(SkillError::TooManyFiles {
                    folder: root.to_path_buf(),
                    limit: MAX_FILES_PER_SKILL,
                });
            }
            if let Ok(relative) = path.strip_prefix(root) {
                let parts: Vec<String> =
                    relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                files.push(parts.join("/"));
            }
        }
    }
    files.sort();
    Ok(())
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, SkillError> {
    let read = std::fs::read_dir(dir).map_err(|source| SkillError::Read { path: dir.into(), source })?;
    let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    Ok(entries)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Reads at most `limit` bytes of `file` as UTF-8 text; more is [`SkillError::TooLarge`].
/// With `no_follow`, a symbolic link as the file itself is refused by the open (on Unix).
pub(crate) fn read_bounded(file: &Path, limit: u64, no_follow: bool) -> Result<String, SkillError> {
    let read_error = |source| SkillError::Read { path: file.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    if no_follow {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nix::libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = no_follow;
    let mut bytes = Vec::new();
    options.open(file).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes)).map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(SkillError::TooLarge { file: file.to_path_buf(), limit });
    }
    String::from_utf8(bytes).map_err(|_| SkillError::NotText { file: file.to_path_buf() })
}

/// Skills found by a [`SkillLoader`], in the order found. Give them to an agent with
/// [`crate::SkillsProvider`].
#[derive(Debug, Default)]
pub struct SkillSet {
    skills: Vec<Skill>,
    skipped: Vec<SkillError>,
    max_resource_bytes: u64,
}

impl SkillSet {
    /// The skills of one directory (a skill folder, or a folder of them), default limits.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Result<Self, SkillError> {
        SkillLoader::new().dir(dir).load()
    }

    /// The skills of several directories, default limits; names must be unique across them.
    pub fn from_dirs<P: Into<PathBuf>>(dirs: impl IntoIterator<Item = P>) -> Result<Self, SkillError> {
        dirs.into_iter().fold(SkillLoader::new(), SkillLoader::dir).load()
    }

    /// The skills.
    pub fn skills(&self) -> &[Skill] {
        &self.skills
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// The errors of the skills skipped ([`SkillLoader::skip_invalid`]).
    pub fn skipped(&self) -> &[SkillError] {
        &self.skipped
    }

    /// The skill named `name` (exactly, else ignoring case).
    pub fn get(&self, name: &str) -> Result<&Skill, SkillError> {
        let name = name.trim();
        self.skills
            .iter()
            .find(|s| s.name == name)
            .or_else(|| self.skills.iter().find(|s| s.name.eq_ignore_ascii_case(name)))
            .ok_or_else(|| SkillError::UnknownSkill {
                name: name.to_string(),
                available: list(self.skills.iter().map(|s| s.name.as_str())),
            })
    }

    /// The text of a resource of a skill: `resource` is one of [`Skill::resources`] (a path
    /// relative to the skill's folder). A path with `..`, an absolute path or one through a
    /// symbolic link is refused ([`SkillError::OutsideSkill`]), even if the folder changed
    /// since it was listed; so is a file over the resource size limit.
    pub fn read_resource(&self, skill: &str, resource: &str) -> Result<String, SkillError> {
        let skill = self.get(skill)?;
        check_inside(skill, resource)?;
        let listed = listed(&skill.resources, resource).ok_or_else(|| SkillError::UnknownResource {
            skill: skill.name.clone(),
            resource: resource.to_string(),
            available: list(skill.resources.iter().map(String::as_str)),
        })?;
        let path = confined(skill, listed)?;
        read_bounded(&path, self.max_resource_bytes, true)
    }
}

/// `name` as one of `names`: exactly, else ignoring case; `None` when it is not listed.
pub(crate) fn listed<'a>(names: &'a [String], name: &str) -> Option<&'a String> {
    let name = name.trim().trim_start_matches("./");
    names.iter().find(|n| *n == name).or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(name)))
}

/// [`SkillError::OutsideSkill`] when `path` would leave the skill's folder by its text alone.
pub(crate) fn check_inside(skill: &Skill, path: &str) -> Result<(), SkillError> {
    match escape_reason(path.trim()) {
        Some(reason) => {
            Err(SkillError::OutsideSkill { skill: skill.name.clone(), path: path.into(), reason })
        }
        None => Ok(()),
    }
}

/// Why a relative path would leave its folder, if it would.
pub(crate) fn escape_reason(path: &str) -> Option<&'static str> {
    if path.contains('\0') {
        return Some("a NUL character");
    }
    if path.contains('\\') {
        return Some("a backslash");
    }
    let path = Path::new(path);
    if path.is_absolute() || path.has_root() {
        return Some("an absolute path");
    }
    if path.components().any(|c| matches!(c, Component::ParentDir | Component::Prefix(_))) {
        return Some("a `..` component");
    }
    None
}

/// The full path of `relative` inside the skill's folder, checked: no `..`, not absolute, and
/// no symbolic link on the way (the folder is canonical, so nothing above it is checked).
pub(crate) fn confined(skill: &Skill, relative: &str) -> Result<PathBuf, SkillError> {
    let outside =
        |reason| SkillError::OutsideSkill { skill: skill.name.clone(), path: relative.into(), reason };
    if let Some(reason) = escape_reason(relative) {
        return Err(outside(reason));
    }
    let mut path = skill.folder.clone();
    for component in Path::new(relative).components() {
        if let Component::Normal(part) = component {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(metadata) if metadata.file_type().is_symlink() => return Err(outside("a symbolic link")),
                Ok(_) => {}
                Err(source) => return Err(SkillError::Read { path, source }),
            }
        }
    }
    let canonical =
        std::fs::canonicalize(&path).map_err(|source| SkillError::Read { path: path.clone(), source })?;
    if !canonical.starts_with(&skill.folder) {
        return Err(outside("it resolves elsewhere"));
    }
    Ok(canonical)
}

/// Names for a message: `a, b, c`, or `none`.
pub(crate) fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: BTreeSet<&str> = names.collect();
    if names.is_empty() { "none".into() } else { names.into_iter().collect::<Vec<_>>().join(", ") }
}
