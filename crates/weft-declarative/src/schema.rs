//! MAF property lists to JSON Schema.

use serde_json::{Map, Value, json};

use crate::spec::{PropertySpec, SchemaSpec};

/// The JSON Schema of a property list: an object whose properties are required unless
/// `required: false`, with no other properties.
pub fn object_schema(spec: &SchemaSpec) -> Value {
    properties_schema(&spec.properties)
}

fn properties_schema(properties: &[PropertySpec]) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for property in properties {
        props.insert(property.name.clone(), property_schema(property));
        if property.required.unwrap_or(true) {
            required.push(Value::String(property.name.clone()));
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

fn property_schema(property: &PropertySpec) -> Value {
    let kind = property.kind.as_deref().unwrap_or("string");
    let mut schema = match kind {
        "object" => properties_schema(&property.properties.0),
        "array" => {
            let items = property.items.as_deref().map(property_schema).unwrap_or_else(|| json!({}));
            json!({"type": "array", "items": items})
        }
        other => json!({"type": other}),
    };
    if let Value::Object(map) = &mut schema {
        if let Some(description) = &property.description {
            map.insert("description".into(), description.clone().into());
        }
        if !property.allowed.is_empty() {
            map.insert("enum".into(), Value::Array(property.allowed.clone()));
        }
        if let Some(default) = &property.default {
            map.insert("default".into(), default.clone());
        }
        if let Some(example) = &property.example {
            map.insert("examples".into(), Value::Array(vec![example.clone()]));
        }
    }
    schema
}

/// The property kinds Weft maps.
pub(crate) const KINDS: [&str; 6] = ["string", "number", "integer", "boolean", "array", "object"];

/// Checks the kinds of a property list; returns the bad ones as `(property, kind)`.
pub(crate) fn bad_kinds(properties: &[PropertySpec]) -> Vec<(String, String)> {
    let mut bad = Vec::new();
    for property in properties {
        if let Some(kind) = &property.kind
            && !KINDS.contains(&kind.as_str())
        {
            bad.push((property.name.clone(), kind.clone()));
        }
        bad.extend(bad_kinds(&property.properties.0));
        if let Some(items) = &property.items {
            bad.extend(bad_kinds(std::slice::from_ref(items)));
        }
    }
    bad
}
