//! Session files on disk: atomic saves and the checks a caller runs before doing work it would
//! lose if the save failed.
//!
//! A save never writes into the session file itself. It writes a temporary file with a unique
//! name (`.NAME.XXXXXX.tmp`) in the same directory, flushes it to disk, and renames it over the
//! file; the rename is atomic, so a reader (or a process killed mid-save) sees the old session or
//! the new one, never a part of one. A process killed during a save can leave its temporary file
//! behind, never a damaged session. `tempfile` makes the unique name (created with `O_EXCL`) and
//! removes the temporary file when the save fails.

use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many symlinks in a row are followed before giving up (Linux's own limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// The file `path` stands for: `path` itself, or, for a symlink, the final target (which need
/// not exist yet: a save through a dangling link creates the target). Relative link targets are
/// relative to the link's directory.
pub(crate) fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::other(format!("more than {MAX_SYMLINK_HOPS} symlinks in a row")))
}

/// The directory a file lives in (`.` for a bare file name).
fn directory_of(file: &Path) -> &Path {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The metadata of an existing session file (`None` when there is none yet), refusing what a
/// save must not replace: a directory, or a read-only file.
fn existing_file(target: &Path) -> io::Result<Option<Metadata>> {
    let metadata = match fs::metadata(target) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    if metadata.is_dir() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"));
    }
    if metadata.permissions().readonly() {
        // The rename would replace it all the same: honour the read-only bit instead.
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, "the file is read-only"));
    }
    Ok(Some(metadata))
}

/// Checks that a session can be saved at `target` (already resolved): its directory exists and
/// takes new files, and the file, if there is one, can be replaced.
pub(crate) fn check_writable(target: &Path) -> io::Result<()> {
    let directory = directory_of(target);
    match fs::metadata(directory) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", directory.display()),
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the directory {} does not exist", directory.display()),
            ));
        }
        Err(error) => return Err(error),
    }
    existing_file(target)?;
    // Creating (and removing) a file is the only reliable test that the directory takes new
    // files: permission bits say nothing about ACLs, read-only mounts or being root.
    temporary_file(target, None).map(drop).map_err(|error| {
        io::Error::new(error.kind(), format!("cannot create files in {}: {error}", directory.display()))
    })
}

/// A new, uniquely named temporary file beside `target`, with `existing`'s permissions (or, for
/// a new session, those `File::create` would give: 0o666 less the umask).
fn temporary_file(target: &Path, existing: Option<&Metadata>) -> io::Result<tempfile::NamedTempFile> {
    let name = target.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(
            existing.map(Metadata::permissions).unwrap_or_else(|| fs::Permissions::from_mode(0o666)),
        );
    }
    #[cfg(not(unix))]
    let _ = existing;
    builder.tempfile_in(directory_of(target))
}

/// Replaces `target` (already resolved) with `bytes`, atomically: see the module's doc.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    if target.file_name().is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"));
    }
    let existing = existing_file(target)?;
    let mut temporary = temporary_file(target, existing.as_ref())?;
    temporary.write_all(bytes)?;
    if let Some(existing) = &existing {
        // The mode given at creation went through the umask; set the file's own exactly.
        temporary.as_file().set_permissions(existing.permissions())?;
    }
    temporary.as_file().sync_all()?;
    // On failure, `PersistError` hands the temporary file back and dropping it removes it.
    temporary.persist(target).map_err(|error| error.error)?;
    sync_directory(directory_of(target));
    Ok(())
}

/// Flushes the directory entry of a rename to disk, so that the new session survives a power
/// loss. The rename has happened either way; a filesystem that cannot sync directories only
/// loses that guarantee, so the error is logged, not returned.
fn sync_directory(directory: &Path) {
    #[cfg(unix)]
    if let Err(error) = fs::File::open(directory).and_then(|d| d.sync_all()) {
        tracing::debug!(directory = %directory.display(), %error, "could not sync the session's directory");
    }
    #[cfg(not(unix))]
    let _ = directory;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn entries(directory: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(directory)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn temporary_files_are_unique_and_beside_the_target() {
        let dir = temp_dir();
        let target = dir.path().join("chat.json");
        let first = temporary_file(&target, None).unwrap();
        let second = temporary_file(&target, None).unwrap();
        assert_ne!(first.path(), second.path());
        for file in [&first, &second] {
            assert_eq!(file.path().parent(), Some(dir.path()));
            let name = file.path().file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with(".chat.json.") && name.ends_with(".tmp"), "{name}");
        }
    }

    #[test]
    fn a_save_replaces_the_file_and_leaves_nothing_else() {
        let dir = temp_dir();
        let target = dir.path().join("chat.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        assert_eq!(entries(dir.path()), ["chat.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_save_keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir();
        let target = dir.path().join("chat.json");
        fs::write(&target, "old").unwrap();
        for mode in [0o600, 0o640, 0o664] {
            fs::set_permissions(&target, fs::Permissions::from_mode(mode)).unwrap();
            write_atomic(&target, b"new").unwrap();
            assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, mode);
        }
        // A new file gets what File::create gives (0o666 less the umask), not tempfile's 0o600.
        let fresh = dir.path().join("fresh.json");
        write_atomic(&fresh, b"new").unwrap();
        let created = dir.path().join("created");
        fs::write(&created, "").unwrap();
        assert_eq!(
            fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            fs::metadata(&created).unwrap().permissions().mode() & 0o777
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_save_follows_symlinks_to_the_target() {
        let dir = temp_dir();
        let real_dir = dir.path().join("real");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("chat.json");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real/chat.json", &link).unwrap();
        let link_to_link = dir.path().join("again.json");
        std::os::unix::fs::symlink(&link, &link_to_link).unwrap();

        let target = resolve(&link_to_link).unwrap();
        assert_eq!(target, real);
        write_atomic(&target, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&link_to_link).unwrap(), b"new");
        assert_eq!(fs::read(&real).unwrap(), b"new");

        // A dangling link: the save creates its target.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("real/later.json", &dangling).unwrap();
        write_atomic(&resolve(&dangling).unwrap(), b"later").unwrap();
        assert_eq!(fs::read(real_dir.join("later.json")).unwrap(), b"later");

        // A loop is an error, not a hang.
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(resolve(&a).is_err());
    }

    #[test]
    fn read_only_files_and_directories_are_not_replaced() {
        let dir = temp_dir();
        let target = dir.path().join("chat.json");
        fs::write(&target, "keep").unwrap();
        let mut permissions = fs::metadata(&target).unwrap().permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&target, permissions).unwrap();
        let error = write_atomic(&target, b"new").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(check_writable(&target).unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(fs::read(&target).unwrap(), b"keep");

        let error = write_atomic(dir.path(), b"new").unwrap_err();
        assert_ne!(error.kind(), io::ErrorKind::Other, "{error}");
        assert_eq!(entries(dir.path()), ["chat.json"]);
    }

    #[test]
    fn check_writable_names_a_missing_directory() {
        let dir = temp_dir();
        let error = check_writable(&dir.path().join("missing").join("chat.json")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(
            error.to_string().contains("does not exist") && error.to_string().contains("missing"),
            "{error}"
        );

        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        let error = check_writable(&file.join("chat.json")).unwrap_err();
        assert!(error.to_string().contains("is not a directory"), "{error}");

        check_writable(&dir.path().join("chat.json")).unwrap();
        assert_eq!(entries(dir.path()), ["file"], "the check leaves nothing behind");
    }
}
