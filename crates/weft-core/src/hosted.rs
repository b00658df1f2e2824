//! Tools the model provider runs itself (web search, file search, a code interpreter): Weft
//! declares them to the provider and never runs them locally.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ChatError, ChatErrorKind};

/// The error code of a call that offers a hosted tool its provider cannot run.
pub const UNSUPPORTED_HOSTED_TOOL: &str = "unsupported_hosted_tool";

/// A tool the provider hosts, with its settings, provider-neutral. Put it in
/// [`crate::ChatOptions::hosted_tools`]; each chat client maps it to its wire form or fails the
/// call with [`HostedTool::unsupported`]. The function-invocation loop never runs one: the
/// provider does, and answers with the result in its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HostedTool {
    /// Searches the web.
    WebSearch {
        /// Provider-specific settings, sent as they are (e.g. OpenAI's `search_context_size`,
        /// Anthropic's `max_uses`).
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        options: Map<String, Value>,
    },
    /// Searches the provider's vector stores.
    FileSearch {
        /// The vector stores to search.
        #[serde(default)]
        vector_store_ids: Vec<String>,
        /// The most results to return.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_results: Option<u32>,
        /// The ranker to use.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ranker: Option<String>,
        /// The lowest score a result may have.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score_threshold: Option<f64>,
        /// Filters on the files' attributes, in the provider's form.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filters: Option<Value>,
    },
    /// Runs code in the provider's sandbox.
    CodeInterpreter {
        /// Files the code may read.
        #[serde(default)]
        file_ids: Vec<String>,
    },
}

impl HostedTool {
    /// Its kind as the declarative files spell it: `web_search`, `file_search` or
    /// `code_interpreter`.
    pub fn kind(&self) -> &'static str {
        match self {
            HostedTool::WebSearch { .. } => "web_search",
            HostedTool::FileSearch { .. } => "file_search",
            HostedTool::CodeInterpreter { .. } => "code_interpreter",
        }
    }

    /// The error of a call offering this tool to `provider`, which cannot run it: a
    /// [`ChatErrorKind::Configuration`] error with code [`UNSUPPORTED_HOSTED_TOOL`], naming the
    /// tool and the provider.
    pub fn unsupported(&self, provider: &str) -> ChatError {
        ChatError::new(
            ChatErrorKind::Configuration,
            format!(
                "the hosted tool `{}` is not supported by provider `{provider}`; remove it or use a provider that hosts it",
                self.kind()
            ),
        )
        .with_provider(provider)
        .with_code(Some(UNSUPPORTED_HOSTED_TOOL.to_string()))
        .with_retryable(false)
    }

    /// The first of `tools` not in `supported`, as the error [`HostedTool::unsupported`] gives.
    pub fn check(tools: &[HostedTool], supported: &[&str], provider: &str) -> Result<(), ChatError> {
        match tools.iter().find(|tool| !supported.contains(&tool.kind())) {
            Some(tool) => Err(tool.unsupported(provider)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_hosted_tool_names_itself_and_the_provider() {
        let tools =
            [HostedTool::WebSearch { options: Map::new() }, HostedTool::CodeInterpreter { file_ids: vec![] }];
        assert!(HostedTool::check(&tools, &["web_search", "code_interpreter"], "openai").is_ok());
        let error = HostedTool::check(&tools, &["web_search"], "anthropic").unwrap_err();
        assert_eq!(error.kind(), ChatErrorKind::Configuration);
        assert_eq!(error.code(), Some(UNSUPPORTED_HOSTED_TOOL));
        assert_eq!(error.provider(), Some("anthropic"));
        assert!(error.message().contains("`code_interpreter`") && error.message().contains("`anthropic`"));
    }
}
