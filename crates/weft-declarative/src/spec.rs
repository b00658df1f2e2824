//! The YAML shape of a declarative agent: MAF's prompt-agent schema (field names in camelCase,
//! as MAF writes them), plus Weft's extensions (`provider: scripted`, stdio MCP `command`).
//!
//! These types only describe the file; [`crate::plan_file`] turns them into Weft values. Strings
//! that may hold an `=Env.NAME` reference, or that name something looked up later (a provider,
//! a binding), keep their position ([`Spanned`]) so that errors point at them.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_saphyr::Spanned;

/// A string with its place in the file.
pub type Text = Spanned<String>;

/// A prompt agent (`kind: Prompt` or `kind: Agent`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "Weft declarative agent (MAF prompt-agent schema)")]
pub struct AgentSpec {
    /// `Prompt` or `Agent`.
    #[schemars(with = "AgentKind")]
    pub kind: Text,
    /// The agent's name.
    #[schemars(with = "Option<String>")]
    pub name: Option<Text>,
    /// A name for people (unused by Weft).
    pub display_name: Option<String>,
    /// What the agent does.
    #[schemars(with = "Option<String>")]
    pub description: Option<Text>,
    /// Free-form metadata (kept, unused by Weft).
    pub metadata: Option<BTreeMap<String, Value>>,
    /// The system instructions.
    #[schemars(with = "Option<String>")]
    pub instructions: Option<Text>,
    /// More instructions, appended after `instructions`.
    #[schemars(with = "Option<String>")]
    pub additional_instructions: Option<Text>,
    /// The model and its provider.
    pub model: Option<ModelSpec>,
    /// The tools the agent may call.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    /// The prompt template (accepted for MAF compatibility; Weft sends instructions as they are).
    pub template: Option<TemplateSpec>,
    /// The agent's input, as a property list (exposed as JSON Schema, not enforced).
    pub input_schema: Option<SchemaSpec>,
    /// The agent's answer, as a property list: turns on strict structured output.
    pub output_schema: Option<SchemaSpec>,
    /// Weft extension: Agent Skills (folders with a `SKILL.md`) given to the agent.
    #[schemars(with = "Option<SkillsSpec>")]
    pub skills: Option<Spanned<SkillsSpec>>,
}

/// `skills:` (Weft extension): folders of [Agent Skills](https://agentskills.io/specification)
/// the agent may load (`load_skill`), read (`read_skill_resource`) and, with `scripts: true`,
/// run (`run_skill_script`, each call after the caller's approval).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsSpec {
    /// Directories of skills: a skill's folder, or a folder of skill folders. A relative path is
    /// relative to the agent file's folder; `=Env.NAME` is allowed.
    #[schemars(with = "Vec<String>")]
    pub paths: Vec<Text>,
    /// Whether the model may run the skills' scripts (`.py` with `python3`, `.sh` with `sh`);
    /// every run waits for the caller's approval. Default false.
    #[serde(default)]
    pub scripts: bool,
    /// The time limit of one script run, in seconds (default 30).
    pub script_timeout: Option<u64>,
    /// Whether reading skills (`load_skill`, `read_skill_resource`) needs approval too. Default
    /// false.
    #[serde(default)]
    pub approve_reads: bool,
}

/// The values of `kind` (for the JSON Schema).
#[derive(JsonSchema)]
#[allow(dead_code)]
enum AgentKind {
    Prompt,
    Agent,
}

/// `model:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelSpec {
    /// The model id (a deployment name on Azure).
    #[schemars(with = "Option<String>")]
    pub id: Option<Text>,
    /// `OpenAI`, `AzureOpenAI`, `OpenAICompatible` (each with `.Chat` or `.Responses`),
    /// `Anthropic`, `Bedrock` (Amazon Bedrock's Converse API), or `scripted` (Weft's offline
    /// model).
    #[schemars(with = "Option<String>")]
    pub provider: Option<Text>,
    /// `Chat` or `Responses`: joined to the provider as `Provider.ApiType`.
    #[schemars(with = "Option<String>")]
    pub api_type: Option<Text>,
    /// How to reach the provider.
    pub connection: Option<ConnectionSpec>,
    /// Generation options.
    pub options: Option<OptionsSpec>,
}

/// `connection:` (of a model or an MCP tool): `kind` is `key`, `remote`, `anonymous` or
/// `reference`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionSpec {
    /// `key`, `remote`, `anonymous` or `reference`.
    #[schemars(with = "String")]
    pub kind: Text,
    /// The endpoint (base URL) (`key`, `remote`, `anonymous`).
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Text>,
    /// The API key (`key`); usually `=Env.NAME`.
    #[schemars(with = "Option<String>")]
    pub api_key: Option<Text>,
    /// The API key, MAF's other spelling (`key`).
    #[schemars(with = "Option<String>")]
    pub key: Option<Text>,
    /// The connection's name (`remote`, `reference`: looked up in the bindings' connections).
    #[schemars(with = "Option<String>")]
    pub name: Option<Text>,
    /// The reference's target (`reference`; informative).
    pub target: Option<String>,
    /// How to authenticate (informative).
    pub authentication_mode: Option<String>,
    /// What the connection is for (informative).
    pub usage_description: Option<String>,
}

/// `model.options:`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OptionsSpec {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// Top-k sampling (sent as `top_k`).
    pub top_k: Option<u32>,
    /// The most tokens of the answer.
    pub max_output_tokens: Option<u32>,
    /// Seed for deterministic sampling.
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop_sequences: Vec<String>,
    /// Frequency penalty (sent as `frequency_penalty`).
    pub frequency_penalty: Option<f32>,
    /// Presence penalty (sent as `presence_penalty`).
    pub presence_penalty: Option<f32>,
    /// Whether the model may call several tools at once (`parallel_tool_calls`).
    pub allow_multiple_tool_calls: Option<bool>,
    /// Provider-specific options sent as they are; `chatToolMode` (`auto`, `none`, `required`)
    /// is the tool choice.
    #[serde(default)]
    pub additional_properties: BTreeMap<String, Value>,
}

/// One entry of `tools:`. MAF's tool kinds share this shape; [`crate::plan_file`] checks which
/// fields each kind takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolSpec {
    /// `function`, `mcp`, or a hosted kind the provider runs (`web_search`, `file_search`,
    /// `code_interpreter` where the provider hosts them; `openapi` and `custom` are refused).
    #[schemars(with = "String")]
    pub kind: Text,
    /// The tool's name (a function tool's name as the model sees it; an MCP server's label).
    #[schemars(with = "Option<String>")]
    pub name: Option<Text>,
    /// What the tool does.
    pub description: Option<String>,
    /// `function`: which registered Rust function runs it (default: the tool's name). A list of
    /// `{name, input}` or a map of name to input.
    pub bindings: Option<BindingList>,
    /// `function`: the parameters, as a property list.
    pub parameters: Option<SchemaSpec>,
    /// `function`: strict arguments.
    #[serde(default)]
    pub strict: bool,
    /// `mcp`: a streamable HTTP server's URL.
    #[schemars(with = "Option<String>")]
    pub url: Option<Text>,
    /// `mcp` (Weft extension): a stdio server's command line, e.g. `npx -y server stdio`.
    #[schemars(with = "Option<String>")]
    pub command: Option<Text>,
    /// `mcp` (Weft extension): more arguments of `command` (each may be `=Env.NAME`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub args: Vec<Text>,
    /// `mcp` (Weft extension): environment of the stdio server.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: BTreeMap<String, Text>,
    /// `mcp`: HTTP headers sent to the server (values may be `=Env.NAME`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub headers: BTreeMap<String, Text>,
    /// `mcp`: the server's tools the agent may use (default: all).
    #[serde(default)]
    pub allowed_tools: Vec<String>,
    /// `mcp`: `never`, `always`, or `{kind: toolSpecify, alwaysRequireApprovalTools,
    /// neverRequireApprovalTools}`.
    pub approval_mode: Option<ApprovalSpec>,
    /// `mcp`: the server's name (informative).
    pub server_name: Option<String>,
    /// `mcp`: the server's description (informative).
    pub server_description: Option<String>,
    /// `mcp`, hosted kinds: how to reach the service (`key` adds a bearer token).
    pub connection: Option<ConnectionSpec>,
    /// `web_search`: provider settings, sent as they are (e.g. `search_context_size`, `max_uses`).
    pub options: Option<BTreeMap<String, Value>>,
    /// `file_search`: vector stores.
    pub vector_store_ids: Option<Vec<String>>,
    /// `file_search`: the most results.
    pub maximum_result_count: Option<u32>,
    /// `file_search`: the ranker.
    pub ranker: Option<String>,
    /// `file_search`: the lowest score kept.
    pub score_threshold: Option<f64>,
    /// `file_search`: filters.
    pub filters: Option<BTreeMap<String, Value>>,
    /// `code_interpreter`: files.
    pub file_ids: Option<Vec<String>>,
    /// `openapi`: the specification.
    pub specification: Option<String>,
}

/// `approvalMode:` of an MCP tool: a word, or an object with `kind`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ApprovalSpec {
    /// `never` or `always`.
    Word(String),
    /// `{kind: never|always|toolSpecify|specify, …}`.
    Detailed(DetailedApproval),
}

/// `approvalMode: {kind: …}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetailedApproval {
    /// `never`, `always`, `toolSpecify` (or MAF's `specify`).
    pub kind: String,
    /// Tools whose calls need approval.
    #[serde(default)]
    pub always_require_approval_tools: Vec<String>,
    /// Tools whose calls never need approval.
    #[serde(default)]
    pub never_require_approval_tools: Vec<String>,
}

/// A tool's `bindings:`: a list of `{name, input}`, or a map of name to input.
#[derive(Debug, JsonSchema)]
#[schemars(with = "Value")]
pub struct BindingList(pub Vec<BindingSpec>);

/// One binding: the registered function's name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingSpec {
    /// The name registered in [`crate::Bindings`].
    #[schemars(with = "String")]
    pub name: Text,
    /// The input it binds (informative).
    pub input: Option<String>,
}

/// `template:` (accepted, not applied).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// `{kind, strict, options}`.
    pub format: Option<BTreeMap<String, Value>>,
    /// `{kind, options}`.
    pub parser: Option<BTreeMap<String, Value>>,
}

/// A property list with its options: `inputSchema`, `outputSchema`, a function's `parameters`.
/// Either `{properties: …, strict, examples}` or the property list itself.
#[derive(Debug, Default, JsonSchema)]
#[schemars(with = "Value")]
pub struct SchemaSpec {
    /// The properties.
    pub properties: Vec<PropertySpec>,
    /// Strict (MAF's flag; `outputSchema` is always strict in Weft).
    pub strict: bool,
    /// Example values (informative).
    pub examples: Vec<Value>,
}

/// One property: MAF's `Property`, `ArrayProperty` (`items`) or `ObjectProperty`
/// (`properties`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertySpec {
    /// The name (in a list; a map's key otherwise).
    #[serde(default)]
    pub name: String,
    /// `string`, `number`, `integer`, `boolean`, `array`, `object` (`type` is accepted too).
    #[serde(alias = "type")]
    pub kind: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Whether it must be present (default: true, as strict output needs).
    pub required: Option<bool>,
    /// The default value.
    pub default: Option<Value>,
    /// An example value.
    pub example: Option<Value>,
    /// The allowed values.
    #[serde(default, rename = "enum")]
    pub allowed: Vec<Value>,
    /// An array's items.
    pub items: Option<Box<PropertySpec>>,
    /// An object's properties.
    #[serde(default)]
    pub properties: PropertyList,
}

/// Properties as a list (`- name: x`) or a map (`x: {…}`).
#[derive(Debug, Default, JsonSchema)]
#[schemars(with = "Value")]
pub struct PropertyList(pub Vec<PropertySpec>);

// Hand-written visitors instead of `#[serde(untagged)]`: an untagged enum buffers the input and
// loses the positions and messages of the errors inside it.
impl<'de> Deserialize<'de> for PropertyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = PropertyList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of properties or a map of property names to properties")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<PropertySpec>()? {
                    out.push(p);
                }
                Ok(PropertyList(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((name, mut p)) = map.next_entry::<String, PropertySpec>()? {
                    p.name = name;
                    out.push(p);
                }
                Ok(PropertyList(out))
            }
        }
        deserializer.deserialize_any(ListVisitor)
    }
}

impl<'de> Deserialize<'de> for SchemaSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SchemaVisitor;
        impl<'de> Visitor<'de> for SchemaVisitor {
            type Value = SchemaSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a property list, or a map with `properties`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let list = ListOf.visit_seq(seq)?;
                Ok(SchemaSpec { properties: list.0, ..SchemaSpec::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = SchemaSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "properties" => out.properties = map.next_value::<PropertyList>()?.0,
                        "strict" => out.strict = map.next_value()?,
                        "examples" => out.examples = map.next_value()?,
                        // MAF ignores these at the top of a schema.
                        "kind" | "type" | "name" | "description" => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["properties", "strict", "examples", "type", "kind", "name", "description"],
                            ));
                        }
                    }
                }
                Ok(out)
            }
        }
        struct ListOf;
        impl ListOf {
            fn visit_seq<'de, A: SeqAccess<'de>>(self, mut seq: A) -> Result<PropertyList, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<PropertySpec>()? {
                    out.push(p);
                }
                Ok(PropertyList(out))
            }
        }
        deserializer.deserialize_any(SchemaVisitor)
    }
}

impl<'de> Deserialize<'de> for BindingList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BindingVisitor;
        impl<'de> Visitor<'de> for BindingVisitor {
            type Value = BindingList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of {name, input} or a map of binding names to inputs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<BindingSpec>()? {
                    out.push(b);
                }
                Ok(BindingList(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((name, input)) = map.next_entry::<Text, Option<String>>()? {
                    out.push(BindingSpec { name, input });
                }
                Ok(BindingList(out))
            }
        }
        deserializer.deserialize_any(BindingVisitor)
    }
}
