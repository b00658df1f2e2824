//! JSON Schemas (as tools and structured output carry them) as Gemini's `Schema`, the
//! OpenAPI 3.0 subset that `parameters` and `responseSchema` take.
//!
//! Written by hand: no crate converts JSON Schema to this subset. Local `$ref`s are inlined
//! (recursion stops at [`MAX_DEPTH`] with a plain object), `type: [T, "null"]` and
//! `anyOf: [S, {"type": "null"}]` become `nullable`, `oneOf` becomes `anyOf`, `const` a
//! one-value `enum`, and the keywords the API refuses (`$schema`, `additionalProperties`,
//! `$defs` …) are left out.

use serde_json::{Map, Value, json};

/// How deep `$ref`s are followed before a recursive schema is cut.
const MAX_DEPTH: usize = 16;

/// The keywords Gemini's `Schema` takes as they are.
const PLAIN: [&str; 16] = [
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "propertyOrdering",
    "default",
];

/// `schema` as Gemini's `Schema`.
pub(crate) fn to_gemini(schema: &Value) -> Value {
    convert(schema, schema, 0)
}

fn convert(schema: &Value, root: &Value, depth: usize) -> Value {
    let Value::Object(object) = schema else {
        // `true` (anything) has no equivalent; an object is the loosest Gemini takes.
        return json!({"type": "object"});
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return match resolve(reference, root) {
            Some(target) if depth < MAX_DEPTH => {
                let mut converted = convert(target, root, depth + 1);
                // Keywords beside the `$ref` (its description) win.
                if let (Value::Object(converted), Some(description)) =
                    (&mut converted, object.get("description"))
                {
                    converted.insert("description".into(), description.clone());
                }
                converted
            }
            _ => json!({"type": "object"}),
        };
    }
    let mut out = Map::new();
    for key in PLAIN {
        if let Some(value) = object.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    match object.get("type") {
        Some(Value::Array(types)) => {
            let named: Vec<&Value> = types.iter().filter(|kind| kind.as_str() != Some("null")).collect();
            if named.len() < types.len() {
                out.insert("nullable".into(), json!(true));
            }
            match named.as_slice() {
                [] => {}
                [one] => {
                    out.insert("type".into(), (*one).clone());
                }
                many => {
                    let any: Vec<Value> = many.iter().map(|kind| json!({"type": kind})).collect();
                    out.insert("anyOf".into(), Value::Array(any));
                }
            }
        }
        Some(kind @ Value::String(_)) if kind.as_str() != Some("null") => {
            out.insert("type".into(), kind.clone());
        }
        Some(_) => {
            out.insert("nullable".into(), json!(true));
        }
        None => {}
    }
    if let Some(constant) = object.get("const") {
        out.insert("enum".into(), json!([constant]));
        if !out.contains_key("type") && constant.is_string() {
            out.insert("type".into(), json!("string"));
        }
    }
    if let Some(Value::Object(properties)) = object.get("properties") {
        let converted: Map<String, Value> =
            properties.iter().map(|(name, schema)| (name.clone(), convert(schema, root, depth))).collect();
        out.insert("properties".into(), Value::Object(converted));
    }
    if let Some(items) = object.get("items") {
        out.insert("items".into(), convert(items, root, depth));
    }
    if let Some(minimum) = object.get("minimum").or_else(|| object.get("exclusiveMinimum")) {
        out.insert("minimum".into(), minimum.clone());
    }
    if let Some(maximum) = object.get("maximum").or_else(|| object.get("exclusiveMaximum")) {
        out.insert("maximum".into(), maximum.clone());
    }
    let alternatives = object.get("anyOf").or_else(|| object.get("oneOf")).and_then(Value::as_array);
    if let Some(alternatives) = alternatives {
        let is_null = |schema: &Value| schema.get("type").and_then(Value::as_str) == Some("null");
        let others: Vec<&Value> = alternatives.iter().filter(|schema| !is_null(schema)).collect();
        if others.len() < alternatives.len() {
            out.insert("nullable".into(), json!(true));
        }
        match others.as_slice() {
            [one] => merge(&mut out, convert(one, root, depth)),
            many => {
                let any: Vec<Value> = many.iter().map(|schema| convert(schema, root, depth)).collect();
                out.insert("anyOf".into(), Value::Array(any));
            }
        }
    }
    if let Some(Value::Array(all)) = object.get("allOf") {
        for schema in all {
            merge(&mut out, convert(schema, root, depth));
        }
    }
    Value::Object(out)
}

/// Adds `other`'s keywords that `out` does not have.
fn merge(out: &mut Map<String, Value>, other: Value) {
    if let Value::Object(other) = other {
        for (key, value) in other {
            out.entry(key).or_insert(value);
        }
    }
}

/// A local reference (`#/$defs/Name`, `#/definitions/Name`, any JSON pointer in the root).
fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_inlined_and_refused_keywords_dropped() {
        // What schemars makes of a struct with an optional nested struct.
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Trip",
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "Where."},
                "days": {"type": ["integer", "null"], "format": "uint32", "minimum": 0},
                "hotel": {"anyOf": [{"$ref": "#/$defs/Hotel"}, {"type": "null"}]},
                "mode": {"oneOf": [{"const": "car"}, {"const": "train"}]},
            },
            "required": ["city"],
            "additionalProperties": false,
            "$defs": {
                "Hotel": {"type": "object", "properties": {"stars": {"type": "integer"}}, "required": ["stars"]}
            }
        });
        assert_eq!(
            to_gemini(&schema),
            json!({
                "title": "Trip",
                "type": "object",
                "required": ["city"],
                "properties": {
                    "city": {"type": "string", "description": "Where."},
                    "days": {"type": "integer", "nullable": true, "format": "uint32", "minimum": 0},
                    "hotel": {
                        "nullable": true,
                        "type": "object",
                        "properties": {"stars": {"type": "integer"}},
                        "required": ["stars"]
                    },
                    "mode": {"anyOf": [{"type": "string", "enum": ["car"]}, {"type": "string", "enum": ["train"]}]},
                }
            })
        );
    }

    #[test]
    fn recursive_schemas_are_cut() {
        let schema = json!({
            "type": "object",
            "properties": {"child": {"$ref": "#"}},
        });
        let converted = to_gemini(&schema);
        let mut depth = 0;
        let mut node = &converted;
        while let Some(child) = node.pointer("/properties/child") {
            node = child;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH + 1);
        assert_eq!(node, &json!({"type": "object"}));
    }
}
