//! Discovery of skill folders, their bad `SKILL.md`s, and reads confined to each skill's folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use weft_skills::{SkillError, SkillLoader, SkillSet};

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn skill(root: &Path, name: &str, description: &str) {
    write(
        &root.join(name).join("SKILL.md"),
        &format!("---\nname: {name}\ndescription: {description}\n---\n# {name}\nSteps.\n"),
    );
}

#[test]
fn skills_are_found_in_one_or_more_directories_with_their_resources_and_scripts() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    skill(a.path(), "unit-converter", "Converts units");
    write(&a.path().join("unit-converter/references/table.md"), "| mi | km |");
    write(&a.path().join("unit-converter/assets/data.json"), "{}");
    write(&a.path().join("unit-converter/scripts/convert.sh"), "echo hi");
    write(&a.path().join("unit-converter/image.png"), "not text");
    write(&a.path().join("unit-converter/.hidden.md"), "hidden");
    write(&a.path().join("unit-converter/references/deep/too-deep.md"), "below the listed depth");
    // A grouping folder: skills two levels down are found; three levels down are not.
    skill(&a.path().join("team"), "style-guide", "Writes in the house style");
    skill(&a.path().join("x/y"), "too-deep", "never found");
    skill(b.path(), "other", "From the second directory");

    let set = SkillSet::from_dirs([a.path(), b.path()]).unwrap();
    let names: Vec<&str> = set.skills().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["style-guide", "unit-converter", "other"]);
    let converter = set.get("unit-converter").unwrap();
    assert_eq!(converter.resources, ["assets/data.json", "references/table.md"]);
    assert_eq!(converter.scripts, ["scripts/convert.sh"]);
    assert_eq!(converter.body, "# unit-converter\nSteps.\n");
    assert_eq!(set.read_resource("unit-converter", "references/table.md").unwrap(), "| mi | km |");
    // A skill folder given directly is one skill.
    let one = SkillSet::from_dir(a.path().join("unit-converter")).unwrap();
    assert_eq!(one.skills().len(), 1);
}

#[test]
fn a_bad_skill_file_is_a_typed_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("no-front/SKILL.md"), "# just markdown\n");
    let error = SkillSet::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&error, SkillError::MissingFrontmatter { file } if file.ends_with("no-front/SKILL.md")),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("renamed/SKILL.md"), "---\nname: original\ndescription: d\n---\n");
    let error = SkillSet::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&error, SkillError::NameMismatch { name, folder, .. } if name == "original" && folder == "renamed"),
        "{error}"
    );
    assert!(error.to_string().contains("renamed/SKILL.md"), "{error}");

    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("nameless/SKILL.md"), "---\ndescription: d\n---\n");
    let error = SkillSet::from_dir(dir.path()).unwrap_err();
    assert!(matches!(error, SkillError::MissingField { field: "name", .. }), "{error}");

    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("big/SKILL.md"),
        &format!("---\nname: big\ndescription: d\n---\n{}", "x".repeat(2000)),
    );
    let error = SkillLoader::new().dir(dir.path()).max_skill_file_bytes(1000).load().unwrap_err();
    assert!(
        matches!(&error, SkillError::TooLarge { file, limit: 1000 } if file.ends_with("big/SKILL.md")),
        "{error}"
    );

    let missing = dir.path().join("nope");
    assert!(matches!(SkillSet::from_dir(&missing), Err(SkillError::Read { .. })));
}

#[test]
fn duplicates_fail_unless_bad_skills_are_skipped() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    skill(a.path(), "same", "first");
    skill(b.path(), "same", "second");
    write(&b.path().join("z-broken/SKILL.md"), "no frontmatter");
    let error = SkillSet::from_dirs([a.path(), b.path()]).unwrap_err();
    assert!(matches!(error, SkillError::Duplicate { .. }), "{error}");

    let set = SkillLoader::new().dir(a.path()).dir(b.path()).skip_invalid(true).load().unwrap();
    assert_eq!(set.skills().len(), 1);
    assert_eq!(set.get("same").unwrap().description, "first");
    assert_eq!(set.skipped().len(), 2, "{:?}", set.skipped());
}

#[test]
fn reads_cannot_leave_the_skills_folder_by_path() {
    let dir = tempfile::tempdir().unwrap();
    skill(dir.path(), "alpha", "a");
    skill(dir.path(), "beta", "b");
    write(&dir.path().join("alpha/references/ok.md"), "fine");
    write(&dir.path().join("beta/references/secret.md"), "beta's secret");
    write(&dir.path().join("outside.md"), "outside");
    let set = SkillSet::from_dir(dir.path()).unwrap();
    for path in
        ["../beta/references/secret.md", "references/../../outside.md", "/etc/passwd", "..\\outside.md"]
    {
        let error = set.read_resource("alpha", path).unwrap_err();
        assert!(matches!(error, SkillError::OutsideSkill { .. }), "{path}: {error}");
    }
    // Another skill's resource, or a file never listed, is not a resource of this one.
    let error = set.read_resource("alpha", "references/secret.md").unwrap_err();
    assert!(matches!(error, SkillError::UnknownResource { .. }), "{error}");
    assert!(error.to_string().contains("references/ok.md"), "the model is told what exists: {error}");
    assert_eq!(set.read_resource("alpha", "./references/ok.md").unwrap(), "fine");
    assert!(matches!(set.read_resource("gamma", "x.md"), Err(SkillError::UnknownSkill { .. })));
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_neither_listed_nor_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("secret.md"), "TOP SECRET");
    write(&outside.path().join("docs/leak.md"), "TOP SECRET");
    let dir = tempfile::tempdir().unwrap();
    skill(dir.path(), "alpha", "a");
    write(&dir.path().join("alpha/references/ok.md"), "fine");
    symlink(outside.path().join("secret.md"), dir.path().join("alpha/references/link.md")).unwrap();
    symlink(outside.path().join("docs"), dir.path().join("alpha/linked-dir")).unwrap();
    // A skill reached through a link below the directory given is not one.
    skill(outside.path(), "linked-skill", "l");
    symlink(outside.path().join("linked-skill"), dir.path().join("linked-skill")).unwrap();

    let set = SkillSet::from_dir(dir.path()).unwrap();
    assert_eq!(set.skills().len(), 1, "{:?}", set.skills());
    let alpha = set.get("alpha").unwrap();
    assert_eq!(alpha.resources, ["references/ok.md"]);
    for path in ["references/link.md", "linked-dir/leak.md"] {
        let error = set.read_resource("alpha", path).unwrap_err();
        assert!(!error.to_string().contains("TOP SECRET"));
        assert!(matches!(error, SkillError::UnknownResource { .. }), "{path}: {error}");
    }

    // A listed file swapped for a link after discovery is refused at read time.
    fs::remove_file(dir.path().join("alpha/references/ok.md")).unwrap();
    symlink(outside.path().join("secret.md"), dir.path().join("alpha/references/ok.md")).unwrap();
    let error = set.read_resource("alpha", "references/ok.md").unwrap_err();
    assert!(matches!(error, SkillError::OutsideSkill { reason: "a symbolic link", .. }), "{error}");
    // So is a listed file whose folder became a link.
    fs::remove_dir_all(dir.path().join("alpha/references")).unwrap();
    write(&outside.path().join("refs/ok.md"), "TOP SECRET");
    symlink(outside.path().join("refs"), dir.path().join("alpha/references")).unwrap();
    let error = set.read_resource("alpha", "references/ok.md").unwrap_err();
    assert!(matches!(error, SkillError::OutsideSkill { .. }), "{error}");
}

#[test]
fn a_resource_over_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    skill(dir.path(), "alpha", "a");
    write(&dir.path().join("alpha/big.txt"), &"x".repeat(5000));
    write(&dir.path().join("alpha/small.txt"), "small");
    let set = SkillLoader::new().dir(dir.path()).max_resource_bytes(4096).load().unwrap();
    let error = set.read_resource("alpha", "big.txt").unwrap_err();
    assert!(matches!(error, SkillError::TooLarge { limit: 4096, .. }), "{error}");
    assert_eq!(set.read_resource("alpha", "small.txt").unwrap(), "small");
}
