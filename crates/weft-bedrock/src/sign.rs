//! SigV4 signing of each attempt, with `aws-sigv4`.

use std::fmt;
use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use reqwest::header::{HeaderName, HeaderValue};
use weft_core::{ChatError, ChatErrorKind};
use weft_provider::RequestSigner;

use crate::credentials::Credentials;

/// Signs requests for one service in one region. `Debug` shows neither key.
pub(crate) struct SigV4Signer {
    identity: Identity,
    access_key_id: String,
    region: String,
    service: &'static str,
    label: String,
    /// A fixed signing time, for test vectors.
    time: Option<SystemTime>,
}

impl fmt::Debug for SigV4Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Signer")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl SigV4Signer {
    pub(crate) fn new(credentials: &Credentials, region: &str, service: &'static str, label: &str) -> Self {
        Self {
            identity: credentials.identity(),
            access_key_id: credentials.access_key_id().to_string(),
            region: region.to_string(),
            service,
            label: label.to_string(),
            time: None,
        }
    }

    fn error(&self, what: &str, err: impl std::error::Error + Send + Sync + 'static) -> ChatError {
        ChatError::new(ChatErrorKind::Configuration, format!("could not sign the request ({what}): {err}"))
            .with_provider(self.label.as_str())
            .with_source(err)
    }
}

impl RequestSigner for SigV4Signer {
    fn sign(&self, request: &mut reqwest::Request, body: &[u8]) -> Result<(), ChatError> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(self.service)
            .time(self.time.unwrap_or_else(SystemTime::now))
            .settings(SigningSettings::default())
            .build()
            .map_err(|err| self.error("its parameters", err))?
            .into();
        let headers = {
            let signed: Vec<(&str, &str)> = request
                .headers()
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect();
            let signable = SignableRequest::new(
                request.method().as_str(),
                request.url().as_str(),
                signed.into_iter(),
                SignableBody::Bytes(body),
            )
            .map_err(|err| self.error("its URL", err))?;
            let (instructions, _signature) =
                sign(signable, &params).map_err(|err| self.error("SigV4", err))?.into_parts();
            instructions.into_parts().0
        };
        for header in headers {
            let mut value =
                HeaderValue::from_str(header.value()).map_err(|err| self.error("a header value", err))?;
            value.set_sensitive(header.sensitive() || header.name().eq_ignore_ascii_case("authorization"));
            let name = HeaderName::from_bytes(header.name().as_bytes())
                .map_err(|err| self.error("a header name", err))?;
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// AWS's SigV4 test suite (`aws-sig-v4-test-suite`, as shipped in aws-sigv4's own tests):
    /// `post-vanilla` and `get-vanilla-with-session-token`, 2015-08-30T12:36:00Z.
    #[test]
    fn the_published_test_vectors() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let sign = |method: reqwest::Method, token: Option<&str>| {
            let credentials = Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token.map(str::to_string),
            );
            let mut signer = SigV4Signer::new(&credentials, "us-east-1", "service", "test");
            signer.time = Some(time);
            let mut request =
                reqwest::Request::new(method, "https://example.amazonaws.com/".parse().unwrap());
            signer.sign(&mut request, b"").unwrap();
            request
        };
        let request = sign(reqwest::Method::POST, None);
        assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            request.headers()["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        assert!(request.headers()["authorization"].is_sensitive());
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        let request = sign(reqwest::Method::GET, Some(token));
        assert_eq!(request.headers()["x-amz-security-token"], token);
        assert!(request.headers()["x-amz-security-token"].is_sensitive());
        assert_eq!(
            request.headers()["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        );
        assert!(
            !format!("{:?}", SigV4Signer::new(&Credentials::new("AKID", "s3cr3t-key", None), "r", "s", "l"))
                .contains("s3cr3t")
        );
    }
}
