//! `AzureCliCredential` against a fake `az` on `PATH`: success, not signed in, an expired
//! token or sign-in, a hang past the timeout, malformed output, and no `az` at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use weft_azure::{AzureCliCredential, CredentialError, TokenCredential};

const SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// A directory holding an `az` that runs `body`, and the credential that finds it on `PATH`.
fn fake_az(body: &str) -> (tempfile::TempDir, AzureCliCredential) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("az");
    std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let credential = AzureCliCredential::new().search_path(search_path(dir.path()));
    (dir, credential)
}

fn search_path(first: &Path) -> std::ffi::OsString {
    let mut paths = vec![first.to_path_buf()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_signed_in_cli_gives_its_token_for_the_scope() {
    let expires = unix_now() + 3600;
    let (dir, credential) = fake_az(&format!(
        r#"echo "$@" > "$(dirname "$0")/args"
echo '{{"accessToken":"cli-token","expiresOn":"2030-01-01 00:00:00.000000","expires_on":{expires},"subscription":"s","tenant":"t","tokenType":"Bearer"}}'"#
    ));
    let token = credential.get_token(&[SCOPE]).await.unwrap();
    assert_eq!(token.token.expose(), "cli-token");
    assert_eq!(token.expires_on, UNIX_EPOCH + Duration::from_secs(expires));
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(args.trim(), format!("account get-access-token --output json --scope {SCOPE}"));
}

#[tokio::test]
async fn a_tenant_is_passed_on() {
    let (dir, credential) = fake_az(&format!(
        r#"echo "$@" > "$(dirname "$0")/args"
echo '{{"accessToken":"t","expires_on":{}}}'"#,
        unix_now() + 3600
    ));
    credential.tenant_id("contoso.onmicrosoft.com").get_token(&[SCOPE]).await.unwrap();
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert!(args.trim().ends_with("--tenant contoso.onmicrosoft.com"), "{args}");
}

#[tokio::test]
async fn not_signed_in_says_run_az_login() {
    let (_dir, credential) = fake_az("echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1");
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(matches!(err, CredentialError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("run `az login`"), "{err}");
}

#[tokio::test]
async fn an_expired_sign_in_says_sign_in_again() {
    let (_dir, credential) =
        fake_az("echo 'ERROR: AADSTS700082: The refresh token has expired due to inactivity.' >&2\nexit 1");
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(matches!(err, CredentialError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("sign-in has expired: run `az login` again"), "{err}");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let (_dir, credential) =
        fake_az(&format!(r#"echo '{{"accessToken":"old-token","expires_on":{}}}'"#, unix_now() - 60));
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.to_string().contains("already expired"), "{err}");
    assert!(!format!("{err} {err:?}").contains("old-token"), "{err:?}");
}

#[tokio::test]
async fn a_hanging_az_is_killed_at_the_timeout() {
    let (dir, credential) = fake_az("echo $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 60");
    let started = Instant::now();
    let err = credential.timeout(Duration::from_millis(500)).get_token(&[SCOPE]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(err.to_string().contains("did not answer within 500ms"), "{err}");
    // The process was killed: its pid no longer runs (give the kernel a moment to reap it).
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let proc_dir = Path::new("/proc").join(pid.trim());
    let deadline = Instant::now() + Duration::from_secs(10);
    while is_running(&proc_dir) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!is_running(&proc_dir), "az {} still runs", pid.trim());
}

/// Whether the process of `/proc/<pid>` runs (a zombie does not).
fn is_running(proc_dir: &Path) -> bool {
    std::fs::read_to_string(proc_dir.join("stat"))
        .map(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        .unwrap_or(false)
}

#[tokio::test]
async fn malformed_output_is_an_error_that_never_quotes_it() {
    let (_dir, credential) = fake_az("echo 'accessToken: leaked-token'");
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
    assert!(!format!("{err:?}").contains("leaked-token"));
    let (_dir, credential) = fake_az(r#"echo '{"accessToken":"leaked-token"}'"#);
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.to_string().contains("without expires_on"), "{err}");
    assert!(!format!("{err:?}").contains("leaked-token"));
}

#[tokio::test]
async fn no_az_on_path_says_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let credential = AzureCliCredential::new().search_path(empty.path());
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(matches!(err, CredentialError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("not installed or not on PATH"), "{err}");
}

#[tokio::test]
async fn a_scope_that_looks_like_a_flag_is_refused_before_running_az() {
    let (dir, credential) = fake_az("touch \"$(dirname \"$0\")/ran\"");
    let err = credential.get_token(&["--debug"]).await.unwrap_err();
    assert!(err.to_string().contains("not a valid scope"), "{err}");
    assert!(!dir.path().join("ran").exists());
}
