//! Wire pieces both APIs share: lenient deserialization helpers, usage, images, and the
//! writing of request bodies.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use weft_core::{Content, Usage};

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
    /// How many prompt tokens came from the prompt cache (`prompt_tokens_details`, or
    /// Responses' `input_tokens_details`).
    #[serde(alias = "input_tokens_details", deserialize_with = "null_default")]
    pub(crate) prompt_tokens_details: TokenDetails,
}

/// The breakdown of prompt tokens.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TokenDetails {
    pub(crate) cached_tokens: Option<u64>,
}

impl WireUsage {
    /// As a Weft usage; a missing total is the sum. Cached prompt tokens are part of the
    /// prompt tokens, as in Weft's usage.
    pub(crate) fn to_usage(&self) -> Usage {
        let input = self.prompt_tokens.unwrap_or(0);
        let output = self.completion_tokens.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            // Saturating: the counts are the server's, and no count it sends may panic the client.
            total_tokens: self.total_tokens.unwrap_or_else(|| input.saturating_add(output)),
            cache_read_input_tokens: self.prompt_tokens_details.cached_tokens.unwrap_or(0),
            ..Usage::default()
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

/// Whether [`image_url`] has a URL for `content` (without making it).
pub(crate) fn is_image_content(content: &Content) -> bool {
    match content {
        Content::Data { media_type, .. } => is_image(Some(media_type)),
        Content::Uri { uri, media_type } => is_image(media_type.as_deref()) || uri.starts_with("data:image/"),
        _ => false,
    }
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

/// Writes the top level of a request body straight to the serializer (no `Value` tree is
/// built, cloned and dropped per request), with the options' `extra` merged in as if inserted
/// into a map last: an extra entry replaces the body's entry of the same key in place, the
/// others follow the body's entries in their own order.
pub(crate) struct BodyMap<'a, M> {
    map: M,
    extra: &'a Map<String, Value>,
    /// The body's keys so far (kept only when there are extras).
    written: Vec<&'static str>,
}

impl<'a, M: SerializeMap> BodyMap<'a, M> {
    /// Starts a body over `map`.
    pub(crate) fn new(map: M, extra: &'a Map<String, Value>) -> Self {
        Self { map, extra, written: Vec::new() }
    }

    /// Writes one entry of the body (or the extra that replaces it).
    pub(crate) fn entry<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), M::Error> {
        if self.extra.is_empty() {
            return self.map.serialize_entry(key, value);
        }
        self.written.push(key);
        match self.extra.get(key) {
            Some(extra) => self.map.serialize_entry(key, extra),
            None => self.map.serialize_entry(key, value),
        }
    }

    /// Writes the extras the body did not have and ends the map.
    pub(crate) fn end(mut self) -> Result<M::Ok, M::Error> {
        for (key, value) in self.extra {
            if !self.written.contains(&key.as_str()) {
                self.map.serialize_entry(key, value)?;
            }
        }
        self.map.end()
    }
}

/// Function-call arguments as the JSON text providers take, written without a copy when they
/// are kept as text (see `FunctionCall::arguments_text`).
pub(crate) struct ArgumentsText<'a>(pub(crate) &'a Value);

impl Serialize for ArgumentsText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(raw) => serializer.serialize_str(raw),
            other => serializer.serialize_str(&other.to_string()),
        }
    }
}

/// A request body as JSON bytes: written into a buffer sized for a typical request, then trimmed
/// to its length.
pub(crate) fn encode<T: Serialize>(body: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = Vec::with_capacity(1024);
    serde_json::to_writer(&mut bytes, body)?;
    // The body is kept for the whole exchange (retries resend it): keep its length, not the
    // writer's spare capacity (a 140-byte body held 1 KiB a run in flight).
    bytes.shrink_to_fit();
    Ok(bytes)
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
    fn huge_token_counts_saturate_instead_of_overflowing() {
        let usage = serde_json::from_str::<super::WireUsage>(&format!(
            r#"{{"prompt_tokens": {max}, "completion_tokens": {max}, "total_tokens": 7}}"#,
            max = u64::MAX
        ))
        .unwrap()
        .to_usage();
        assert_eq!((usage.input_tokens, usage.total_tokens), (u64::MAX, 7));
        let usage = serde_json::from_str::<super::WireUsage>(&format!(
            r#"{{"prompt_tokens": {max}, "completion_tokens": 1}}"#,
            max = u64::MAX
        ))
        .unwrap()
        .to_usage();
        assert_eq!(usage.total_tokens, u64::MAX);
    }

    #[test]
    fn cached_prompt_tokens_are_reported_by_either_api() {
        for json in [
            r#"{"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306, "prompt_tokens_details": {"cached_tokens": 1920}}"#,
            r#"{"input_tokens": 2006, "output_tokens": 300, "total_tokens": 2306, "input_tokens_details": {"cached_tokens": 1920}}"#,
        ] {
            let usage = serde_json::from_str::<super::WireUsage>(json).unwrap().to_usage();
            assert_eq!((usage.input_tokens, usage.cache_read_input_tokens), (2006, 1920), "{json}");
        }
        let usage = serde_json::from_str::<super::WireUsage>(
            r#"{"prompt_tokens": 1, "prompt_tokens_details": null}"#,
        )
        .unwrap()
        .to_usage();
        assert_eq!(usage.cache_read_input_tokens, 0);
    }

    #[test]
    fn f32_options_are_sent_as_written() {
        assert_eq!(super::f32_json(0.7).to_string(), "0.7");
        assert_eq!(super::f32_json(1.0).to_string(), "1.0");
    }

    #[test]
    fn extras_replace_entries_in_place_and_follow_the_rest() {
        use serde::ser::{Serialize, Serializer};
        struct Body<'a>(&'a serde_json::Map<String, serde_json::Value>);
        impl Serialize for Body<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut body = super::BodyMap::new(serializer.serialize_map(None)?, self.0);
                body.entry("model", "m")?;
                body.entry("stream", &true)?;
                body.end()
            }
        }
        let extra = serde_json::json!({"user": "u", "model": "other"});
        let extra = extra.as_object().unwrap();
        assert_eq!(
            String::from_utf8(super::encode(&Body(extra)).unwrap()).unwrap(),
            r#"{"model":"other","stream":true,"user":"u"}"#
        );
        let none = serde_json::Map::new();
        assert_eq!(
            String::from_utf8(super::encode(&Body(&none)).unwrap()).unwrap(),
            r#"{"model":"m","stream":true}"#
        );
    }
}
