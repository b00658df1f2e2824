//! Finding a package's built example for its tests. Only the standard library is used, so that
//! every crate's `tests/examples.rs` can include this file with `#[path = …]`.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// The built example `name`, next to the test binary (`target/debug/deps/…` →
/// `target/debug/examples/name`); `source_dir` holds its `name.rs`. Cargo builds a package's
/// examples before its tests; a run filtered to one test binary does not, so a binary older than
/// its source is refused rather than tested stale.
pub fn example_path(name: &str, source_dir: &Path) -> PathBuf {
    let package = env!("CARGO_PKG_NAME");
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "the example binary {} is missing: `cargo nextest run -p {package}` builds it, or run \
         `cargo build -p {package} --examples`",
        path.display()
    );
    let source = source_dir.join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).unwrap();
    assert!(
        modified(&path) >= modified(&source),
        "the example binary {} is older than {}: run `cargo build -p {package} --examples` \
         (unfiltered test runs build it)",
        path.display(),
        source.display()
    );
    path
}
