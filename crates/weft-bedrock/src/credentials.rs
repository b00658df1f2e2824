//! AWS credentials and region: from the environment, or from a profile of the shared
//! credentials and config files (`~/.aws/credentials`, `~/.aws/config`).
//!
//! The files are read here rather than with `aws-config`: that crate is the AWS SDK's whole
//! configuration loader (SSO, STS, IMDS, its own HTTP client and runtime), while what Weft
//! reads is a few `key = value` lines of one INI section. Profiles that need a process or a
//! role (`credential_process`, `role_arn`, `sso_*`) are not resolved: set the environment
//! variables (e.g. with `aws configure export-credentials --format env`).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// An access key, its secret and, for temporary credentials, a session token. `Debug` shows
/// the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credentials {
    /// Long-term credentials (an access key and its secret), or temporary ones with
    /// `session_token`.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: session_token.filter(|token| !token.trim().is_empty()),
        }
    }

    /// The access key id (not a secret: it names the key).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secrets, for masking in errors.
    pub(crate) fn secrets(&self) -> Vec<String> {
        std::iter::once(self.secret_access_key.clone()).chain(self.session_token.clone()).collect()
    }

    /// As aws-sigv4's signing identity.
    pub(crate) fn identity(&self) -> aws_smithy_runtime_api::client::identity::Identity {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "weft",
        )
        .into()
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, when the first two
    /// are set.
    pub(crate) fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Option<Self> {
        Some(Self::new(var("AWS_ACCESS_KEY_ID")?, var("AWS_SECRET_ACCESS_KEY")?, var("AWS_SESSION_TOKEN")))
    }

    /// A profile's static keys (`aws_access_key_id`, `aws_secret_access_key`,
    /// `aws_session_token`).
    fn from_profile(profile: &HashMap<String, String>) -> Option<Self> {
        Some(Self::new(
            profile.get("aws_access_key_id")?.clone(),
            profile.get("aws_secret_access_key")?.clone(),
            profile.get("aws_session_token").cloned(),
        ))
    }
}

/// Where the shared files are and which profile to read, from the environment
/// (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, `HOME`).
#[derive(Debug, Clone)]
pub(crate) struct ProfileFiles {
    pub(crate) profile: String,
    pub(crate) credentials: Option<PathBuf>,
    pub(crate) config: Option<PathBuf>,
}

impl ProfileFiles {
    pub(crate) fn from_vars(var: &impl Fn(&str) -> Option<String>, profile: Option<String>) -> Self {
        let home = var("HOME").or_else(|| var("USERPROFILE")).map(PathBuf::from);
        let file = |name: &str, default: &str| {
            var(name).map(PathBuf::from).or_else(|| home.as_ref().map(|home| home.join(".aws").join(default)))
        };
        Self {
            profile: profile.or_else(|| var("AWS_PROFILE")).unwrap_or_else(|| "default".to_string()),
            credentials: file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            config: file("AWS_CONFIG_FILE", "config"),
        }
    }

    /// The profile's keys: the credentials file's section `[name]`, then the config file's
    /// `[profile name]` (`[default]` for the default profile). A file that does not exist is
    /// no error; one that cannot be read is.
    fn sections(&self) -> Result<Vec<HashMap<String, String>>, String> {
        let mut found = Vec::new();
        if let Some(path) = &self.credentials
            && let Some(section) = read_section(path, &self.profile)?
        {
            found.push(section);
        }
        let config_name = if self.profile == "default" {
            "default".to_string()
        } else {
            format!("profile {}", self.profile)
        };
        if let Some(path) = &self.config
            && let Some(section) = read_section(path, &config_name)?
        {
            found.push(section);
        }
        Ok(found)
    }

    /// The profile's credentials, if it has static keys.
    pub(crate) fn credentials(&self) -> Result<Option<Credentials>, String> {
        Ok(self.sections()?.iter().find_map(Credentials::from_profile))
    }

    /// The profile's `region`.
    pub(crate) fn region(&self) -> Result<Option<String>, String> {
        Ok(self.sections()?.into_iter().find_map(|mut section| section.remove("region")))
    }
}

/// The `key = value` lines of section `[name]` of an INI file, keys lower-cased; `None` when
/// the file or the section does not exist.
fn read_section(path: &Path, name: &str) -> Result<Option<HashMap<String, String>>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("could not read {}: {err}", path.display())),
    };
    Ok(parse_section(&text, name))
}

/// Section `[name]` of an INI text (the AWS shared-file dialect: `#` and `;` comments, spaces
/// around names and values, indented lines continuing a sub-section, which are skipped).
fn parse_section(text: &str, name: &str) -> Option<HashMap<String, String>> {
    let mut section: Option<HashMap<String, String>> = None;
    let mut inside = false;
    for line in text.lines() {
        let indented = line.starts_with([' ', '\t']);
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let header =
                header.split(']').next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
            inside = header == name;
            if inside {
                section.get_or_insert_with(HashMap::new);
            }
            continue;
        }
        if !inside || indented {
            continue;
        }
        if let (Some((key, value)), Some(section)) = (line.split_once('='), section.as_mut()) {
            section.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_of_the_shared_files() {
        let text = "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=secret1\n\n\
                    [work]\n; another\nAWS_ACCESS_KEY_ID = AKIDWORK\naws_secret_access_key = secret/2+x=\n\
                    aws_session_token = tok\ns3 =\n  max_concurrent_requests = 20\n[ profile   dev ]\nregion = eu-west-3\n";
        let work = parse_section(text, "work").unwrap();
        assert_eq!(
            Credentials::from_profile(&work),
            Some(Credentials::new("AKIDWORK", "secret/2+x=", Some("tok".into())))
        );
        assert!(!work.contains_key("max_concurrent_requests"));
        let default = parse_section(text, "default").unwrap();
        assert_eq!(
            Credentials::from_profile(&default),
            Some(Credentials::new("AKIDDEFAULT", "secret1", None))
        );
        assert_eq!(parse_section(text, "profile dev").unwrap()["region"], "eu-west-3");
        assert_eq!(parse_section(text, "missing"), None);
    }

    #[test]
    fn debug_shows_no_secret() {
        let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", Some("session-tok".into()));
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("wJalrXUtnFEMI") && !shown.contains("session-tok"), "{shown}");
        assert_eq!(credentials.secrets(), ["wJalrXUtnFEMI", "session-tok"]);
    }
}
