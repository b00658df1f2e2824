//! `weft mcp …`: look at an MCP server and call its tools from the command line.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use weft::{Content, ToolOutput, ToolSet};
use weft_mcp::{McpResourceContents, McpSource};

use crate::error::CliError;
use crate::mcp_server::{ConnectOptions, ServerSpec};

/// Arguments of `weft mcp`.
#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

/// A server named on the command line, with its connection options.
#[derive(Debug, Args)]
struct ServerArg {
    /// The server: an http(s):// URL, or a command line such as "node server.js stdio".
    #[arg(value_name = "SERVER")]
    server: String,

    /// Start SERVER as a command line on stdio, even if it looks like a URL.
    #[arg(long)]
    stdio: bool,

    #[command(flatten)]
    connect: ConnectOptions,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// List the server's tools (name, description; the input schema with --json).
    Tools(ServerArg),
    /// Call a tool and print its content.
    Call {
        #[command(flatten)]
        server: ServerArg,
        /// The tool's name.
        tool: String,
        /// An argument as KEY=VALUE (repeatable). VALUE is JSON (2, true, [1]) unless the tool's
        /// schema says the argument is a string.
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
        /// All arguments as a JSON object (--arg values are added on top).
        #[arg(long, value_name = "JSON")]
        json_args: Option<String>,
    },
    /// List the server's prompts and their arguments.
    Prompts(ServerArg),
    /// Fill in a prompt and print its messages.
    Prompt {
        #[command(flatten)]
        server: ServerArg,
        /// The prompt's name.
        name: String,
        /// An argument as KEY=VALUE (repeatable).
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
    },
    /// List the server's resources and resource templates.
    Resources(ServerArg),
    /// Read a resource and print its contents.
    Read {
        #[command(flatten)]
        server: ServerArg,
        /// The resource's URI.
        uri: String,
    },
    /// Serve agents and workflows as an MCP server on stdin/stdout: each FILE's agent (or
    /// workflow) is a tool named by its `name`, taking {"prompt": string, "session"?: string};
    /// without a file, the demo agent is the tool `weft`. Notices go to stderr.
    Serve(crate::mcp_serve::McpServeArgs),
}

/// Runs a `weft mcp` command: connects, does it, closes the connection.
pub(crate) async fn run(args: McpArgs) -> Result<(), CliError> {
    if let McpCommand::Serve(serve) = args.command {
        return crate::mcp_serve::run(serve).await;
    }
    let server = match &args.command {
        McpCommand::Tools(server) | McpCommand::Prompts(server) | McpCommand::Resources(server) => server,
        McpCommand::Call { server, .. }
        | McpCommand::Prompt { server, .. }
        | McpCommand::Read { server, .. } => server,
        // Served above.
        McpCommand::Serve(_) => return Ok(()),
    };
    let spec = ServerSpec::parse(&server.server, server.stdio, &server.connect)?;
    let json = server.json;
    let source = spec.connect(None).await?;
    let result = command(&args.command, &spec, &source, json).await;
    source.close().await;
    result
}

async fn command(
    command: &McpCommand,
    spec: &ServerSpec,
    source: &McpSource,
    json: bool,
) -> Result<(), CliError> {
    let mut out = String::new();
    match command {
        McpCommand::Tools(_) => tools(source, json, &mut out),
        McpCommand::Call { tool, args, json_args, .. } => {
            let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
            if !names.iter().any(|name| name == tool) {
                return Err(unknown_tool(spec, tool, &names));
            }
            let arguments = call_arguments(source, tool, args, json_args.as_deref())?;
            let call = source.call_tool(tool, arguments);
            let output = crate::progress::while_running(std::slice::from_ref(source), call)
                .await
                .map_err(|e| spec.error(e, Some(tool)))?;
            call_output(&output, json, &mut out)?;
        }
        McpCommand::Prompts(_) => {
            let prompts = source.list_prompts().await.map_err(|e| spec.error(e, None))?;
            if json {
                out = to_json(&prompts)?;
            }
            for prompt in prompts.iter().filter(|_| !json) {
                let arguments: Vec<String> = prompt
                    .arguments
                    .iter()
                    .map(|a| if a.required { a.name.clone() } else { format!("{}?", a.name) })
                    .collect();
                out.push_str(&format!("{}({})\n", prompt.name, arguments.join(", ")));
                describe(&mut out, prompt.description.as_deref().or(prompt.title.as_deref()));
            }
        }
        McpCommand::Prompt { name, args, .. } => {
            let arguments = Value::Object(key_values(args, |_| true)?);
            let filled = source.get_prompt(name, arguments).await.map_err(|e| spec.error(e, None))?;
            if json {
                let messages: Vec<Value> =
                    filled.messages.iter().map(|m| json!({"role": m.role, "contents": m.contents})).collect();
                out = to_json(&json!({"description": filled.description, "messages": messages}))?;
            } else {
                for message in &filled.messages {
                    let parts: Vec<String> = message.contents.iter().map(describe_content).collect();
                    out.push_str(&format!("{}: {}\n", message.role, parts.join("\n")));
                }
            }
        }
        McpCommand::Resources(_) => {
            let resources = source.list_resources().await.map_err(|e| spec.error(e, None))?;
            let templates = source.list_resource_templates().await.unwrap_or_default();
            if json {
                out = to_json(&json!({"resources": resources, "templates": templates}))?;
            } else {
                for resource in &resources {
                    let mime = resource.mime_type.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
                    out.push_str(&format!("{}  {}{mime}\n", resource.uri, resource.name));
                    describe(&mut out, resource.description.as_deref());
                }
                for template in &templates {
                    out.push_str(&format!("{}  {} (template)\n", template.uri_template, template.name));
                    describe(&mut out, template.description.as_deref());
                }
            }
        }
        McpCommand::Read { uri, .. } => {
            let contents = source.read_resource(uri).await.map_err(|e| spec.error(e, None))?;
            if json {
                out = to_json(&contents)?;
            }
            for part in contents.iter().filter(|_| !json) {
                match part {
                    McpResourceContents::Text { text, .. } => {
                        out.push_str(text);
                        if !text.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    other => out.push_str(&format!("{}\n", describe_content(&other.to_content()))),
                }
            }
        }
        McpCommand::Serve(_) => {}
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io { context: "could not write to stdout".into(), source })
}

fn tools(source: &McpSource, json: bool, out: &mut String) {
    let tools = source.tools();
    if json {
        let list: Vec<Value> = tools
            .iter()
            .map(|tool| {
                let definition = tool.definition();
                json!({
                    "name": definition.name,
                    "description": definition.description,
                    "input_schema": definition.parameters,
                })
            })
            .collect();
        out.push_str(&to_json(&list).unwrap_or_default());
        return;
    }
    for tool in &tools {
        let definition = tool.definition();
        let parameters = parameters(&definition.parameters);
        let signature: Vec<String> = parameters
            .iter()
            .map(|p| {
                let optional = if p.required { "" } else { "?" };
                match &p.kind {
                    Some(kind) => format!("{}{optional}: {kind}", p.name),
                    None => format!("{}{optional}", p.name),
                }
            })
            .collect();
        out.push_str(&format!("{}({})\n", definition.name, signature.join(", ")));
        describe(out, Some(&definition.description));
        for parameter in &parameters {
            out.push_str(&format!("    - {}\n", parameter.line()));
        }
    }
}

/// One argument of a tool, as its input schema describes it.
#[derive(Debug, PartialEq)]
struct Parameter {
    name: String,
    /// `string`, `integer or null`, `array of string`, …
    kind: Option<String>,
    required: bool,
    /// The allowed values (`enum`, or `anyOf`/`oneOf` of `const`s), as JSON.
    choices: Vec<String>,
    default: Option<String>,
    description: Option<String>,
}

impl Parameter {
    /// `name (string, required; one of: "a", "b"; default "a"): what it is`.
    fn line(&self) -> String {
        let mut facts = vec![];
        if let Some(kind) = &self.kind {
            facts.push(kind.clone());
        }
        facts.push(if self.required { "required".to_string() } else { "optional".to_string() });
        let mut line = format!("{} ({}", self.name, facts.join(", "));
        if !self.choices.is_empty() {
            line.push_str(&format!("; one of: {}", self.choices.join(", ")));
        }
        if let Some(default) = &self.default {
            line.push_str(&format!("; default {default}"));
        }
        line.push(')');
        if let Some(text) =
            self.description.as_deref().map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        {
            if !text.is_empty() {
                line.push_str(": ");
                line.push_str(&text);
            }
        }
        line
    }
}

/// The arguments of an input schema, in its order.
fn parameters(schema: &Value) -> Vec<Parameter> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(name, property)| {
            // A `$ref` may stand beside its own description and default.
            let resolved = resolve(schema, property);
            let field = |key: &str| property.get(key).or_else(|| resolved.get(key));
            Parameter {
                name: name.clone(),
                kind: kind_of(schema, property),
                required: required.contains(&name.as_str()),
                choices: choices(schema, property),
                default: field("default").map(Value::to_string),
                description: field("description").and_then(Value::as_str).map(str::to_string),
            }
        })
        .collect()
}

/// Follows a local `$ref` (`#/$defs/Color`, as pydantic writes enums), once.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => root.pointer(pointer).unwrap_or(schema),
        None => schema,
    }
}

/// The schema's type in words: `string`, `integer or null`, `array of string`.
fn kind_of(root: &Value, schema: &Value) -> Option<String> {
    let schema = resolve(root, schema);
    match &schema["type"] {
        Value::String(kind) if kind == "array" => Some(match kind_of(root, &schema["items"]) {
            Some(item) => format!("array of {item}"),
            None => "array".to_string(),
        }),
        Value::String(kind) => Some(kind.clone()),
        Value::Array(kinds) => {
            let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
            (!kinds.is_empty()).then(|| kinds.join(" or "))
        }
        _ => {
            let alternatives = schema["anyOf"].as_array().or_else(|| schema["oneOf"].as_array())?;
            let mut kinds: Vec<String> = Vec::new();
            for kind in alternatives.iter().filter_map(|alternative| kind_of(root, alternative)) {
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            (!kinds.is_empty()).then(|| kinds.join(" or "))
        }
    }
}

/// The allowed values: `enum`, `const`s under `anyOf`/`oneOf`, or those of an array's items.
fn choices(root: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(root, schema);
    if let Some(values) = schema["enum"].as_array() {
        return values.iter().map(Value::to_string).collect();
    }
    if let Some(value) = schema.get("const") {
        return vec![value.to_string()];
    }
    if let Some(alternatives) = schema["anyOf"].as_array().or_else(|| schema["oneOf"].as_array()) {
        return alternatives.iter().flat_map(|alternative| choices(root, alternative)).collect();
    }
    if schema["type"] == "array" {
        return choices(root, &schema["items"]);
    }
    Vec::new()
}

/// An unknown tool is a usage error, whatever the server would have answered (some answer with
/// a JSON-RPC error, others with an `isError` result): the same exit code for every server.
fn unknown_tool(spec: &ServerSpec, tool: &str, names: &[String]) -> CliError {
    const SHOWN: usize = 20;
    let mut list = names.iter().take(SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(", … ({} in all; see `weft mcp tools`)", names.len()));
    }
    if names.is_empty() {
        list = "none".into();
    }
    CliError::Usage(format!("{}: no tool named '{tool}'; its tools: {list}", spec.display))
}

/// The description, indented under its item, on one line.
fn describe(out: &mut String, description: Option<&str>) {
    if let Some(text) = description.map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")) {
        if !text.is_empty() {
            out.push_str(&format!("    {text}\n"));
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| CliError::Usage(format!("could not print JSON: {e}")))
}

/// The arguments of a tool call: `--json-args`, then each `--arg` on top, typed by the schema.
fn call_arguments(
    source: &McpSource,
    tool: &str,
    args: &[String],
    json_args: Option<&str>,
) -> Result<Value, CliError> {
    let mut arguments = match json_args {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(CliError::Usage(format!("--json-args must be a JSON object, got {other}")));
            }
            Err(error) => return Err(CliError::Usage(format!("--json-args is not valid JSON: {error}"))),
        },
    };
    let schema = source
        .tools()
        .iter()
        .find(|t| t.definition().name == tool)
        .map(|t| t.definition().parameters.as_value().clone())
        .unwrap_or(Value::Null);
    let is_string = |key: &str| {
        let kind = &schema["properties"][key]["type"];
        kind == "string" || kind.as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "string"))
    };
    arguments.extend(key_values(args, is_string)?);
    Ok(Value::Object(arguments))
}

/// `KEY=VALUE` pairs: VALUE as a string when `is_string(KEY)`, else as JSON when it parses.
fn key_values(args: &[String], is_string: impl Fn(&str) -> bool) -> Result<Map<String, Value>, CliError> {
    let mut map = Map::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(CliError::Usage(format!("expected KEY=VALUE after --arg, got {arg:?}")));
        };
        let value = if is_string(key) {
            Value::String(value.to_string())
        } else {
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()))
        };
        map.insert(key.to_string(), value);
    }
    Ok(map)
}

/// A tool's output: its text, its structured content as JSON, other contents described.
fn call_output(output: &ToolOutput, json: bool, out: &mut String) -> Result<(), CliError> {
    if json {
        *out = to_json(&json!({"value": output.value, "contents": output.contents}))?;
        return Ok(());
    }
    match &output.value {
        Value::String(text) if text.is_empty() => {}
        Value::String(text) => {
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        other => out.push_str(&to_json(other)?),
    }
    for content in &output.contents {
        out.push_str(&describe_content(content));
        out.push('\n');
    }
    Ok(())
}

/// Text as is; images, audio and other data as a short description; links by URI.
pub(crate) fn describe_content(content: &Content) -> String {
    match content {
        Content::Text { text } => text.clone(),
        Content::Data { media_type, base64 } => {
            let kind =
                media_type.split('/').next().filter(|k| matches!(*k, "image" | "audio")).unwrap_or("data");
            let bytes = base64.trim_end_matches('=').len() * 3 / 4;
            format!("[{kind}: {media_type}, {bytes} bytes]")
        }
        Content::Uri { uri, media_type } => match media_type {
            Some(media_type) => format!("[link: {uri} ({media_type})]"),
            None => format!("[link: {uri}]"),
        },
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_show_types_requirement_choices_and_defaults() {
        let schema = json!({
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["error", "success"], "description": "The kind."},
                "color": {"$ref": "#/$defs/Color", "default": "red"},
                "count": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "mode": {"oneOf": [{"const": "fast"}, {"const": "slow"}]}
            },
            "required": ["kind"],
            "$defs": {"Color": {"type": "string", "enum": ["red", "blue"]}}
        });
        let lines: Vec<String> = parameters(&schema).iter().map(Parameter::line).collect();
        assert_eq!(
            lines,
            [
                r#"kind (string, required; one of: "error", "success"): The kind."#,
                r#"color (string, optional; one of: "red", "blue"; default "red")"#,
                "count (integer or null, optional)",
                r#"tags (array of string, optional; one of: "a", "b")"#,
                r#"mode (optional; one of: "fast", "slow")"#,
            ]
        );
    }

    #[test]
    fn key_values_follow_the_schema() {
        let args = vec!["a=2".to_string(), "text=123".into(), "flag=true".into(), "word=hi".into()];
        let map = key_values(&args, |key| key == "text").unwrap();
        assert_eq!(map["a"], json!(2));
        assert_eq!(map["text"], json!("123"));
        assert_eq!(map["flag"], json!(true));
        assert_eq!(map["word"], json!("hi"));
        assert!(key_values(&["nokey".to_string()], |_| false).is_err());
    }

    #[test]
    fn data_is_described_briefly() {
        let image = Content::Data { media_type: "image/png".into(), base64: "AAAA".into() };
        assert_eq!(describe_content(&image), "[image: image/png, 3 bytes]");
        let blob = Content::Data { media_type: "application/zip".into(), base64: "AAA=".into() };
        assert_eq!(describe_content(&blob), "[data: application/zip, 2 bytes]");
    }
}
