//! Builds JSON values of a schema (tool arguments, structured answers) from the words of a
//! prompt and the facts of the conversation.

use serde_json::{Map, Value};

use super::memory::{Fact, recall};
use super::words::{meaningful, related, trim_token, words};

/// Properties that hold the name of someone or something.
const NAME_LIKE: &[&str] = &[
    "city",
    "location",
    "name",
    "country",
    "place",
    "person",
    "user",
    "author",
    "company",
    "region",
    "state",
    "capital",
    "destination",
    "origin",
];

/// Words that may open a sentence without being a name.
const OPENERS: &[&str] = &[
    "however", "yes", "no", "please", "well", "also", "then", "so", "now", "ok", "okay", "hello", "hi",
    "thanks", "the", "a", "an", "my", "our", "this", "that", "it", "he", "she", "they", "we", "you",
];

/// Words after which a sentence's first word reads as a name (`Paris is …`, `Ada has …`).
const NAME_VERBS: &[&str] = &["is", "was", "has", "lies", "sits", "became", "remains"];

/// Words that negate what follows (`not a capital`).
/// (`isn't` reaches it as the words `isn` and `t`.)
const NEGATIONS: &[&str] = &["not", "no", "never", "isn", "isnt", "aren", "wasn", "doesn", "without", "non"];

/// The names a prompt mentions, in order: runs of capitalized words (`Eiffel Tower`). A
/// sentence's first word counts only when a name verb (`is`, `has`, …) or another capitalized
/// word follows it and it is not a common opener; `I` never counts.
pub(super) fn names_in(prompt: &str) -> Vec<String> {
    let tokens: Vec<&str> = prompt.split_whitespace().collect();
    let clean = |t: &str| t.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
    let is_capitalized = |t: &str| {
        let word = clean(t);
        word.chars().next().is_some_and(char::is_uppercase)
            && !matches!(word.as_str(), "I" | "I'm" | "I’m" | "I'd" | "I've" | "I'll")
    };
    let mut names = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let sentence_start = i == 0 || tokens[i - 1].ends_with(['.', '!', '?', ':', ';']);
        let next = tokens.get(i + 1).copied().filter(|_| !token.ends_with([',', '.', '!', '?', ':', ';']));
        let counts = is_capitalized(token)
            && (!sentence_start
                || (!OPENERS.contains(&clean(token).to_lowercase().as_str())
                    && next.is_some_and(|n| {
                        NAME_VERBS.contains(&clean(n).to_lowercase().as_str()) || is_capitalized(n)
                    })));
        if counts {
            current.push(clean(token));
        } else if !current.is_empty() {
            names.push(current.join(" "));
            current.clear();
        }
        if counts && token.ends_with([',', '.', '!', '?', ':', ';']) {
            names.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        names.push(current.join(" "));
    }
    names
}

/// Builds JSON values of a schema from the words and numbers of a prompt.
pub(super) struct Filler<'a> {
    numbers: Vec<f64>,
    next_number: usize,
    prompt: String,
    lower_words: Vec<String>,
    free_text: String,
    names: Vec<String>,
    next_name: usize,
    identifier: Option<String>,
    path: Option<String>,
    facts: &'a [Fact],
}

impl<'a> Filler<'a> {
    /// A filler for `prompt`; the words of `tool_name` are left out of free text.
    pub(super) fn new(prompt: &str, tool_name: &str, facts: &'a [Fact]) -> Self {
        let raw_words: Vec<&str> = prompt.split_whitespace().collect();
        // Standalone numbers only: `A1234` is an identifier, not the number 1234.
        let numbers = raw_words.iter().filter_map(|w| trim_token(w).parse::<f64>().ok()).collect();
        let identifier = raw_words
            .iter()
            .map(|w| trim_token(w))
            .find(|w| w.chars().any(|c| c.is_ascii_digit()) && w.chars().any(char::is_alphabetic))
            .map(String::from);
        let path = raw_words
            .iter()
            .map(|w| w.trim_matches(|c: char| matches!(c, ',' | ';' | '?' | '!' | '"' | '\'') || c == ')'))
            .find(|w| {
                w.contains('/')
                    || (w.contains('.') && !w.ends_with('.') && w.chars().any(char::is_alphabetic))
            })
            .map(String::from);
        let tool_words = words(tool_name);
        let free: Vec<&str> = raw_words
            .iter()
            .copied()
            .filter(|w| {
                let lower = w.to_lowercase();
                let clean = lower.trim_matches(|c: char| !c.is_alphanumeric());
                !tool_words.iter().any(|t| related(t, clean))
            })
            .collect();
        Self {
            numbers,
            next_number: 0,
            prompt: prompt.to_string(),
            lower_words: words(prompt),
            free_text: free.join(" "),
            names: names_in(prompt),
            next_name: 0,
            identifier,
            path,
            facts,
        }
    }

    fn number(&mut self) -> Option<f64> {
        let n = self.numbers.get(self.next_number).copied();
        self.next_number += 1;
        n
    }

    fn next_name(&mut self) -> Option<String> {
        let name = self.names.get(self.next_name).cloned();
        self.next_name += 1;
        name
    }

    /// A value of `schema` for `property` (the name of the field it fills, `""` at the top).
    pub(super) fn value(&mut self, schema: &Value, property: &str) -> Value {
        if let Some(value) = self.evident(schema, property) {
            return value;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            return options.first().cloned().unwrap_or(Value::Null);
        }
        if let Some(first) = ["anyOf", "oneOf"].iter().find_map(|k| schema.get(*k).and_then(Value::as_array))
        {
            let non_null = first.iter().find(|s| s.get("type") != Some(&Value::String("null".into())));
            return non_null.map(|s| self.value(s, property)).unwrap_or(Value::Null);
        }
        match kind(schema) {
            "object" => {
                let mut object = Map::new();
                for (name, property_schema) in properties(schema) {
                    object.insert(name.clone(), self.value(property_schema, name));
                }
                Value::Object(object)
            }
            "array" => self.array(schema, property),
            "integer" => {
                let minimum = schema.get("minimum").and_then(Value::as_i64).unwrap_or(0);
                Value::from(minimum.max(1))
            }
            "number" => {
                let minimum = schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0);
                serde_json::Number::from_f64(minimum).map(Value::Number).unwrap_or(Value::Null)
            }
            "boolean" => Value::Bool(false),
            "null" => Value::Null,
            "string" => Value::String(self.fallback_text(property)),
            _ => Value::Null,
        }
    }

    /// The properties of an object schema the prompt gives a value for (for a follow-up that
    /// changes only those: `and in Rome?` changes the city).
    pub(super) fn evident_properties(&mut self, schema: &Value) -> Map<String, Value> {
        properties(schema).filter_map(|(name, s)| Some((name.clone(), self.evident(s, name)?))).collect()
    }

    /// A value the prompt (or a fact) gives for a scalar field, or `None`.
    fn evident(&mut self, schema: &Value, property: &str) -> Option<Value> {
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            let lower = self.prompt.to_lowercase();
            return options
                .iter()
                .find(|o| o.as_str().is_some_and(|s| lower.contains(&s.to_lowercase())))
                .cloned();
        }
        if let Some(constant) = schema.get("const") {
            return Some(constant.clone());
        }
        if schema.get("anyOf").is_some() || schema.get("oneOf").is_some() {
            return None;
        }
        match kind(schema) {
            "integer" => self.number().map(|n| Value::from(n as i64)),
            "number" => self.number().and_then(serde_json::Number::from_f64).map(Value::Number),
            "boolean" => self.mentioned(property).map(Value::Bool),
            "string" => self.evident_text(property).map(Value::String),
            _ => None,
        }
    }

    /// Whether the prompt says the property holds: `Some(true)` when it names it (`capital` for
    /// `is_capital`), `Some(false)` when it negates it (`not a capital`), `None` when silent.
    fn mentioned(&self, property: &str) -> Option<bool> {
        let cues: Vec<String> = words(property)
            .into_iter()
            .filter(|w| meaningful(w) && !matches!(w.as_str(), "has" | "was" | "can" | "should" | "does"))
            .collect();
        let at = self.lower_words.iter().position(|w| w.len() >= 3 && cues.iter().any(|c| related(c, w)))?;
        let negated =
            self.lower_words[at.saturating_sub(3)..at].iter().any(|w| NEGATIONS.contains(&w.as_str()));
        Some(!negated)
    }

    /// `key: value`, `key = value` or `key is Value` in the prompt, for a property named `key`.
    fn stated(&self, property: &str) -> Option<String> {
        let key = words(property).join(" ");
        if key.len() < 3 {
            return None;
        }
        let lower = self.prompt.to_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find(&key) {
            let start = from + found;
            from = start + key.len();
            let starts_word = !lower[..start].ends_with(|c: char| c.is_alphanumeric());
            // `lower` and the prompt have the same offsets unless lowercasing changed a
            // character's length; then this reads nothing rather than a wrong slice.
            let Some(rest) = self.prompt.get(start + key.len()..) else { break };
            if !starts_word || rest.starts_with(|c: char| c.is_alphanumeric()) {
                continue;
            }
            let trimmed = rest.trim_start();
            let value = if let Some(value) = trimmed.strip_prefix([':', '=']) {
                value
            } else if let Some(value) = trimmed.strip_prefix("is ") {
                if !value.trim_start().starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()) {
                    continue;
                }
                value
            } else {
                continue;
            };
            let value = value.trim_start();
            let end = value.find([',', ';', '\n', '?', '!']).unwrap_or(value.len());
            let value = value[..end].trim().trim_end_matches('.');
            if !value.is_empty() {
                return Some(value.to_string());
            }
        }
        None
    }

    fn evident_text(&mut self, property: &str) -> Option<String> {
        if let Some(value) = self.stated(property) {
            return Some(value);
        }
        let parts = words(property);
        let has_part = |names: &[&str]| parts.iter().any(|p| names.contains(&p.as_str()));
        if has_part(&["path", "file", "filename", "url", "uri", "dir", "directory"]) && self.path.is_some() {
            return self.path.clone();
        }
        if has_part(&["id", "code", "number", "key", "ref", "reference", "sku"]) && self.identifier.is_some()
        {
            return self.identifier.clone();
        }
        if is_name_like(property) {
            if let Some(name) = self.next_name() {
                return Some(name);
            }
        }
        let cues: Vec<&String> = parts.iter().filter(|p| meaningful(p)).collect();
        self.facts
            .iter()
            .rev()
            .find(|fact| words(&fact.key).iter().any(|k| cues.iter().any(|c| related(c, k))))
            .or_else(|| recall(self.facts, property))
            .map(|fact| fact.value.clone())
    }

    fn fallback_text(&self, property: &str) -> String {
        if is_name_like(property) && !self.names.is_empty() {
            // Every name of the prompt went to an earlier field: admit not knowing.
            return "unknown".into();
        }
        if !self.free_text.is_empty() {
            return self.free_text.clone();
        }
        if self.prompt.is_empty() { "text".into() } else { self.prompt.clone() }
    }

    /// An array: the remaining names for a list of strings (none when every name was used), the
    /// remaining numbers for a list of numbers, else one item.
    fn array(&mut self, schema: &Value, property: &str) -> Value {
        let item = schema.get("items").cloned().unwrap_or(Value::Null);
        let plain = item.get("enum").is_none() && item.get("const").is_none();
        match kind(&item) {
            "string" if plain && self.next_name < self.names.len() => {
                let rest = self.names[self.next_name..].iter().cloned().map(Value::String).collect();
                self.next_name = self.names.len();
                Value::Array(rest)
            }
            "number" | "integer" if plain && self.next_number < self.numbers.len() => {
                let mut items = Vec::new();
                while self.next_number < self.numbers.len() {
                    items.push(self.value(&item, property));
                }
                Value::Array(items)
            }
            // The prompt's names all went to earlier fields: nothing more to list.
            "string" if plain && !self.names.is_empty() => Value::Array(Vec::new()),
            _ => Value::Array(vec![self.value(&item, property)]),
        }
    }
}

/// Whether a field holds a name: one of its words is name-like, or ends with `name` (`username`).
fn is_name_like(property: &str) -> bool {
    words(property).iter().any(|w| NAME_LIKE.contains(&w.as_str()) || w.ends_with("name"))
}

/// A schema's type (the first non-null one of a list; `object` when it has properties).
fn kind(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => {
            types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null")
        }
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    }
}

/// The properties of an object schema to fill: the required ones (all when none is required).
fn properties(schema: &Value) -> impl Iterator<Item = (&String, &Value)> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(move |(name, _)| required.is_empty() || required.contains(&name.as_str()))
}

/// Arguments for a tool call: an object of the tool's schema.
pub(super) fn arguments_for(schema: &Value, prompt: &str, tool_name: &str, facts: &[Fact]) -> Value {
    let mut filler = Filler::new(prompt, tool_name, facts);
    let value = filler.value(schema, "");
    if value.is_object() { value } else { Value::Object(Map::new()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_runs_of_capitalized_words() {
        assert_eq!(
            names_in("Paris is the capital of France, with the Eiffel Tower and the Louvre."),
            vec!["Paris", "France", "Eiffel Tower", "Louvre"]
        );
        assert_eq!(names_in("What's the weather in Paris?"), vec!["Paris"]);
        assert_eq!(names_in("Can I get a refund? Tell me."), Vec::<String>::new());
        assert_eq!(names_in("New York is big"), vec!["New York"]);
    }

    #[test]
    fn fields_take_the_names_numbers_and_mentions_of_the_prompt_in_turn() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string"}, "country": {"type": "string"},
            "population_millions": {"type": "number"}, "landmarks": {"type": "array", "items": {"type": "string"}},
            "is_capital": {"type": "boolean"}, "is_coastal": {"type": "boolean"}}});
        let mut filler = Filler::new(
            "Paris is the capital of France: 2.1 million people, the Eiffel Tower, the Louvre",
            "",
            &[],
        );
        assert_eq!(
            filler.value(&schema, ""),
            json!({"name": "Paris", "country": "France", "population_millions": 2.1,
                   "landmarks": ["Eiffel Tower", "Louvre"], "is_capital": true, "is_coastal": false})
        );
        let mut filler = Filler::new("Tell me about Lyon, it is not a capital", "", &[]);
        let value = filler.value(&schema, "");
        assert_eq!(
            (&value["name"], &value["country"], &value["is_capital"]),
            (&json!("Lyon"), &json!("unknown"), &json!(false))
        );
    }

    #[test]
    fn stated_values_and_facts_fill_their_fields() {
        let schema = json!({"type": "object", "properties": {"status": {"type": "string"}, "name": {"type": "string"}}});
        let facts = [Fact { key: "name".into(), value: "Ada".into() }];
        let mut filler = Filler::new("set the status: on hold, please", "", &facts);
        assert_eq!(filler.value(&schema, ""), json!({"status": "on hold", "name": "Ada"}));
    }
}
