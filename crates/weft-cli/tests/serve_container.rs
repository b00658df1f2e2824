//! What the container image relies on: `weft serve` takes its address, port and token from the
//! environment (`WEFT_HOST`, `PORT`, `WEFT_TOKEN`), refuses an open address without a token, and
//! the Dockerfile builds with the commands scripts/static-build.sh verifies (that script, run by
//! scripts/test, builds the musl binary and serves from it alone in an empty chroot).

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{text, weft};

fn repository_file(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn an_open_address_from_the_environment_needs_a_token() {
    let output = weft().args(["serve"]).env("WEFT_HOST", "0.0.0.0").env("PORT", "0").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("WEFT_TOKEN"), "{}", text(&output.stderr));
}

#[test]
fn the_dockerfile_builds_with_the_static_build_script_from_scratch() {
    let dockerfile = repository_file("Dockerfile");
    assert!(dockerfile.contains("RUN scripts/static-build.sh --build-only /out/weft"), "{dockerfile}");
    assert!(dockerfile.contains("FROM scratch"), "{dockerfile}");
    assert!(dockerfile.contains("COPY --from=build /out/weft /weft"), "{dockerfile}");
    assert!(dockerfile.contains("ENV PORT=8088 WEFT_HOST=0.0.0.0"), "{dockerfile}");
    assert!(dockerfile.contains("USER 65532:65532"), "{dockerfile}");
    assert!(dockerfile.contains(r#"ENTRYPOINT ["/weft", "serve"]"#), "{dockerfile}");
    let script = repository_file("scripts/static-build.sh");
    assert!(script.contains("cargo build --release --locked -p weft-cli --target \"$target\""), "{script}");
    let ignored = repository_file(".dockerignore");
    assert!(ignored.lines().any(|line| line == "target"), "{ignored}");
}
