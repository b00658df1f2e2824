//! String-array attributes: weft-core records an attribute whose semantic-convention type is a
//! string array (`gen_ai.response.finish_reasons`, listed in
//! `weft_core::telemetry::STRING_ARRAY_ATTRIBUTES`) as the JSON text of the array, since a
//! `tracing` field holds no array. Before export they become OpenTelemetry string arrays, as
//! the conventions and the backends reading them expect.

use opentelemetry::{Array, KeyValue, StringValue, Value};
use weft_core::telemetry::STRING_ARRAY_ATTRIBUTES;

/// Turns the string-array attributes of `attributes` recorded as JSON text into arrays; a value
/// that is not a JSON array of strings is left as it is.
pub(crate) fn restore(attributes: &mut [KeyValue]) {
    for attribute in attributes {
        // The value first: it is rarely text that opens an array, which rules the key out.
        let Value::String(text) = &attribute.value else { continue };
        if !text.as_str().trim_start().starts_with('[')
            || !STRING_ARRAY_ATTRIBUTES.contains(&attribute.key.as_str())
        {
            continue;
        }
        if let Ok(items) = serde_json::from_str::<Vec<String>>(text.as_str()) {
            attribute.value = Value::Array(Array::String(items.into_iter().map(StringValue::from).collect()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_become_a_string_array_and_other_attributes_stay() {
        let mut attributes = vec![
            KeyValue::new("gen_ai.response.finish_reasons", r#"["stop","length"]"#),
            KeyValue::new("gen_ai.response.id", r#"["not","an","array","attribute"]"#),
        ];
        restore(&mut attributes);
        assert_eq!(
            attributes[0].value,
            Value::Array(Array::String(vec![StringValue::from("stop"), StringValue::from("length")]))
        );
        assert_eq!(attributes[1].value, Value::from(r#"["not","an","array","attribute"]"#));
    }

    #[test]
    fn a_value_that_is_not_a_json_string_array_is_kept() {
        let mut attributes = vec![
            KeyValue::new("gen_ai.response.finish_reasons", "stop"),
            KeyValue::new("gen_ai.response.finish_reasons", "[1, 2]"),
        ];
        restore(&mut attributes);
        assert_eq!(attributes[0].value, Value::from("stop"));
        assert_eq!(attributes[1].value, Value::from("[1, 2]"));
    }
}
