//! Wire pieces both APIs share: lenient deserialization helpers, usage, images.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use weft_core::Usage;

/// Deserializes `null` as the type's default (servers send `"tool_calls": null` and the like).
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Token usage as either API reports it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireUsage {
    #[serde(alias = "input_tokens")]
    pub(crate) prompt_tokens: Option<u64>,
    #[serde(alias = "output_tokens")]
    pub(crate) completion_tokens: Option<u64>,
    pub(crate) total_tokens: Option<u64>,
}

impl WireUsage {
    /// As a Weft usage; a missing total is the sum.
    pub(crate) fn to_usage(&self) -> Usage {
        let input = self.prompt_tokens.unwrap_or(0);
        let output = self.completion_tokens.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: self.total_tokens.unwrap_or(input + output),
        }
    }
}

/// The text of a `content` that is a string, or an array of parts with `text` fields.
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let text: String =
                parts.iter().filter_map(|part| part.get("text").and_then(Value::as_str)).collect();
            Some(text)
        }
        _ => None,
    }
}

/// Arguments as the raw text `FunctionCall::from_raw_arguments` takes (some servers send an
/// object instead of a string).
pub(crate) fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Whether a media type is an image.
pub(crate) fn is_image(media_type: Option<&str>) -> bool {
    media_type.is_some_and(|media_type| media_type.to_ascii_lowercase().starts_with("image/"))
}

/// An image URL for `Content::Data` / `Content::Uri` contents that are images.
pub(crate) fn image_url(content: &weft_core::Content) -> Option<String> {
    match content {
        weft_core::Content::Data { media_type, base64 } if is_image(Some(media_type)) => {
            Some(format!("data:{media_type};base64,{base64}"))
        }
        weft_core::Content::Uri { uri, media_type } => {
            let is_data_image = uri.starts_with("data:image/");
            (is_image(media_type.as_deref()) || is_data_image).then(|| uri.clone())
        }
        _ => None,
    }
}

/// A fresh id for things the server left unnamed.
pub(crate) fn fresh_id(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

/// Merges `extra` into the top level of `body`, last, so that it wins.
pub(crate) fn merge_extra(body: &mut serde_json::Map<String, Value>, extra: &serde_json::Map<String, Value>) {
    for (key, value) in extra {
        body.insert(key.clone(), value.clone());
    }
}

/// An `f32` option as JSON without float noise: `0.7f32` is sent as `0.7`, not
/// `0.699999988079071`.
pub(crate) fn f32_json(value: f32) -> Value {
    let shortest: f64 = value.to_string().parse().unwrap_or(f64::from(value));
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    #[test]
    fn f32_options_are_sent_as_written() {
        assert_eq!(super::f32_json(0.7).to_string(), "0.7");
        assert_eq!(super::f32_json(1.0).to_string(), "1.0");
    }
}
