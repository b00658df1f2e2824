//! JSON Schema helpers: schemas from Rust types, OpenAI's strict-mode transform, and argument
//! validation.

use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The JSON Schema of `T`, without the `$schema` and `title` keys models do not need.
pub fn schema_for<T: JsonSchema>() -> Value {
    let mut value = schemars::schema_for!(T).to_value();
    if let Value::Object(map) = &mut value {
        map.remove("$schema");
        map.remove("title");
        if !map.contains_key("type") && !map.contains_key("$ref") && !map.contains_key("anyOf") {
            // A unit-like argument type: models expect an object schema.
            map.insert("type".into(), Value::String("object".into()));
        }
        if map.get("type") == Some(&Value::String("object".into())) && !map.contains_key("properties") {
            map.insert("properties".into(), Value::Object(Map::new()));
        }
    }
    value
}

/// Rewrites a schema for OpenAI's strict structured outputs: references inlined, every object
/// closed (`additionalProperties: false`) with all its properties required, and properties that
/// were optional made nullable so the model can still leave them out by sending `null`.
pub fn strict_schema(schema: &Value) -> Value {
    let defs = schema.get("$defs").or_else(|| schema.get("definitions")).cloned().unwrap_or(Value::Null);
    let mut out = inline_refs(schema, &defs, 0);
    if let Value::Object(map) = &mut out {
        map.remove("$defs");
        map.remove("definitions");
    }
    close_objects(&mut out);
    out
}

/// How deep references are followed before giving up (recursive types).
const MAX_REF_DEPTH: usize = 32;

fn inline_refs(value: &Value, defs: &Value, depth: usize) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let name = reference.rsplit('/').next().unwrap_or_default();
                if depth < MAX_REF_DEPTH {
                    if let Some(target) = defs.get(name) {
                        let mut resolved = inline_refs(target, defs, depth + 1);
                        // Keep sibling keywords (e.g. a description) next to the reference.
                        if let Value::Object(resolved_map) = &mut resolved {
                            for (key, sibling) in map {
                                if key != "$ref" {
                                    resolved_map.insert(key.clone(), inline_refs(sibling, defs, depth + 1));
                                }
                            }
                        }
                        return resolved;
                    }
                }
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), inline_refs(v, defs, depth))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline_refs(v, defs, depth)).collect()),
        other => other.clone(),
    }
}

fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_object = map.get("type").is_some_and(|t| {
                t == "object" || t.as_array().is_some_and(|a| a.iter().any(|x| x == "object"))
            });
            if is_object {
                let required: Vec<String> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                    .unwrap_or_default();
                if let Some(Value::Object(properties)) = map.get_mut("properties") {
                    let names: Vec<String> = properties.keys().cloned().collect();
                    for name in &names {
                        if !required.contains(name) {
                            if let Some(property) = properties.get_mut(name) {
                                make_nullable(property);
                            }
                        }
                    }
                    map.insert(
                        "required".into(),
                        Value::Array(names.into_iter().map(Value::String).collect()),
                    );
                } else {
                    map.insert("properties".into(), Value::Object(Map::new()));
                    map.insert("required".into(), Value::Array(Vec::new()));
                }
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, child) in map.iter_mut() {
                close_objects(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

fn make_nullable(property: &mut Value) {
    let Value::Object(map) = property else { return };
    match map.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = std::mem::take(t);
            map.insert("type".into(), Value::Array(vec![Value::String(t), Value::String("null".into())]));
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.push(Value::String("null".into()));
        }
        None => {
            let inner = Value::Object(std::mem::take(map));
            map.insert("anyOf".into(), Value::Array(vec![inner, serde_json::json!({"type": "null"})]));
        }
        _ => {}
    }
}

/// Validates JSON values against a compiled schema and reports every violation in one text.
pub struct ArgumentValidator {
    validator: Option<jsonschema::Validator>,
}

impl std::fmt::Debug for ArgumentValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgumentValidator").field("compiled", &self.validator.is_some()).finish()
    }
}

impl ArgumentValidator {
    /// Compiles a schema. A schema that does not compile validates nothing (serde still checks
    /// the arguments' shape when they are deserialized), and the reason is logged.
    pub fn new(schema: &Value) -> Self {
        match jsonschema::validator_for(schema) {
            Ok(validator) => Self { validator: Some(validator) },
            Err(error) => {
                tracing::warn!(%error, "tool parameter schema does not compile; arguments are not validated");
                Self { validator: None }
            }
        }
    }

    /// Checks `instance`; the error lists each violation with its JSON path.
    pub fn validate(&self, instance: &Value) -> Result<(), String> {
        let Some(validator) = &self.validator else { return Ok(()) };
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| {
                let path = e.instance_path().to_string();
                if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        x: i32,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        nickname: Option<String>,
        inner: Inner,
    }

    #[test]
    fn strict_schema_inlines_refs_and_closes_objects() {
        let schema = strict_schema(&schema_for::<Outer>());
        assert!(schema.get("$defs").is_none());
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["required"], json!(["name", "nickname", "inner"]));
        assert_eq!(schema["properties"]["inner"]["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["inner"]["properties"]["x"]["type"], json!("integer"));
        let nickname_type = &schema["properties"]["nickname"]["type"];
        assert!(nickname_type.as_array().is_some_and(|t| t.contains(&json!("null"))), "{schema}");
    }

    #[test]
    fn validator_reports_paths() {
        let validator = ArgumentValidator::new(&schema_for::<Outer>());
        assert!(validator.validate(&json!({"name": "a", "inner": {"x": 1}})).is_ok());
        let error = validator.validate(&json!({"name": 5, "inner": {}})).unwrap_err();
        assert!(error.contains("/name"), "{error}");
        assert!(error.contains("x"), "{error}");
    }
}
