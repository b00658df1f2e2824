//! [`AzureCliCredential`]: the token of the user signed in with `az login`.

use std::ffi::OsString;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde_json::Value;
use weft_provider::{AccessToken, CredentialError, TokenCredential};

use crate::token::{first_line, single_scope};

const NAME: &str = "AzureCliCredential";

/// The default longest wait for `az`.
pub const DEFAULT_CLI_TIMEOUT: Duration = Duration::from_secs(10);

/// Gets tokens from the Azure CLI: `az account get-access-token --scope … --output json`, the
/// user signed in with `az login`. MAF's quickstart signs in this way.
///
/// `az` runs with no shell and no standard input, under a timeout
/// ([`DEFAULT_CLI_TIMEOUT`]); it is killed when the timeout passes or the call is dropped.
/// Failures say what to do: install the CLI, `run az login`, sign in again when the sign-in
/// expired. Its output is never quoted (it holds the token).
#[derive(Debug, Clone)]
pub struct AzureCliCredential {
    program: OsString,
    path: Option<OsString>,
    tenant_id: Option<String>,
    timeout: Duration,
}

impl Default for AzureCliCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl AzureCliCredential {
    /// Runs `az` from `PATH`.
    pub fn new() -> Self {
        Self { program: OsString::from("az"), path: None, tenant_id: None, timeout: DEFAULT_CLI_TIMEOUT }
    }

    /// Runs this program instead of `az`.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = program.into();
        self
    }

    /// Looks `az` up in this `PATH` (and runs it with this `PATH`) instead of the process's.
    pub fn search_path(mut self, path: impl Into<OsString>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Asks for a token of this tenant (`--tenant`) instead of the CLI's current one.
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// The longest wait for `az` (default [`DEFAULT_CLI_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn command(&self, scope: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(["account", "get-access-token", "--output", "json", "--scope", scope]);
        if let Some(tenant) = &self.tenant_id {
            command.args(["--tenant", tenant]);
        }
        if let Some(path) = &self.path {
            command.env("PATH", path);
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        command
    }
}

#[async_trait]
impl TokenCredential for AzureCliCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let scope = single_scope(NAME, scopes)?;
        if let Some(tenant) = &self.tenant_id {
            crate::oauth::check_tenant(NAME, tenant)?;
        }
        let child = self.command(scope).spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                CredentialError::unavailable(
                    NAME,
                    "the Azure CLI (az) is not installed or not on PATH: install it \
                     (https://aka.ms/azure-cli) and run `az login`",
                )
            } else {
                CredentialError::failed_with(NAME, format!("could not run az: {err}"), err)
            }
        })?;
        // Dropping the child (on timeout or when this call is dropped) kills it.
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(err)) => {
                return Err(CredentialError::failed_with(NAME, format!("could not run az: {err}"), err));
            }
            Err(_) => {
                return Err(CredentialError::failed(
                    NAME,
                    format!(
                        "az did not answer within {:?}; check that `az account get-access-token` works, \
                         or raise AzureCliCredential::timeout",
                        self.timeout
                    ),
                ));
            }
        };
        if !output.status.success() {
            return Err(failure(&String::from_utf8_lossy(&output.stderr)));
        }
        parse_cli_token(&output.stdout, SystemTime::now())
    }
}

/// What a failed `az` run means.
fn failure(stderr: &str) -> CredentialError {
    let said = first_line(stderr.trim_start_matches("ERROR:").trim());
    // AADSTS70043 / AADSTS700082: the refresh token expired; AADSTS50173: revoked.
    if ["AADSTS70043", "AADSTS700082", "AADSTS50173", "expired"].iter().any(|code| stderr.contains(code)) {
        return CredentialError::failed(
            NAME,
            format!("the Azure CLI's sign-in has expired: run `az login` again ({said})"),
        );
    }
    if stderr.contains("az login") || stderr.contains("az account set") {
        return CredentialError::unavailable(NAME, format!("not signed in: run `az login` ({said})"));
    }
    if stderr.contains("not recognized") || stderr.contains("command not found") {
        return CredentialError::unavailable(
            NAME,
            "the Azure CLI (az) is not installed or not on PATH: install it (https://aka.ms/azure-cli) and run `az login`",
        );
    }
    CredentialError::failed(NAME, format!("az account get-access-token failed: {said}"))
}

/// Reads `az account get-access-token --output json`: `accessToken` and `expires_on` (Unix
/// seconds, az 2.54 and later). A token that already expired is an error.
fn parse_cli_token(stdout: &[u8], now: SystemTime) -> Result<AccessToken, CredentialError> {
    let malformed = |what: &str| {
        CredentialError::failed(
            NAME,
            format!("az printed {what}, not a token (update the Azure CLI: `az upgrade`)"),
        )
    };
    let value: Value = serde_json::from_slice(stdout).map_err(|_| malformed("something that is not JSON"))?;
    let token = value
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| malformed("JSON without accessToken"))?;
    let expires_on = match value.get("expires_on") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| malformed("JSON without expires_on"))?;
    let expires_on = SystemTime::UNIX_EPOCH + Duration::from_secs(expires_on);
    if expires_on <= now {
        return Err(CredentialError::failed(
            NAME,
            "az returned a token that has already expired: run `az login` again",
        ));
    }
    Ok(AccessToken::new(token, expires_on))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn output_is_read_and_never_quoted() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let token =
            parse_cli_token(br#"{"accessToken":"tok","expires_on":200,"tokenType":"Bearer"}"#, now).unwrap();
        assert_eq!(token.token.expose(), "tok");
        let err = parse_cli_token(br#"{"accessToken":"tok","expires_on":50}"#, now).unwrap_err();
        assert!(err.to_string().contains("already expired"), "{err}");
        let err =
            parse_cli_token(br#"{"accessToken":"tok-secret","expiresOn":"2025-01-01"}"#, now).unwrap_err();
        assert!(!err.to_string().contains("tok-secret"), "{err}");
        assert!(err.to_string().contains("without expires_on"), "{err}");
    }

    #[test]
    fn stderr_says_what_to_do() {
        let err = failure("ERROR: Please run 'az login' to setup account.");
        assert!(err.is_unavailable());
        assert!(err.to_string().contains("run `az login`"), "{err}");
        let err = failure("ERROR: AADSTS700082: The refresh token has expired due to inactivity.");
        assert!(!err.is_unavailable());
        assert!(err.to_string().contains("expired"), "{err}");
    }
}
