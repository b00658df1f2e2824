//! Loading agent files: every fixture, every bad input with its place, hostile files, examples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use weft_core::{AgentSession, ChatOptions, HostedTool, ResponseFormat, ToolChoice};
use weft_declarative::{
    Bindings, LoadError, LoadOptions, ModelOverride, NamedConnection, agent_from_str, finish, load_agent,
    plan_file, plan_str_with, validate,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/declarative").join(name)
}

#[derive(Deserialize)]
struct City {
    city: String,
}

#[derive(Deserialize)]
struct Numbers {
    a: f64,
    b: f64,
}

fn bindings() -> Bindings {
    Bindings::new()
        .function("weather", |args: City| async move { Ok::<_, String>(format!("sunny in {}", args.city)) })
        .function("get_weather", |args: City| async move {
            Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
        })
        .function("add", |args: Numbers| async move { Ok::<_, String>(args.a + args.b) })
        .connection(
            "team",
            NamedConnection { endpoint: Some("http://127.0.0.1:9/v1".into()), api_key: Some("k".into()) },
        )
}

/// The single problem of a bad file, as `line:col: message`.
fn problem(name: &str) -> String {
    let error = validate(fixture(&format!("bad/{name}")), &bindings()).expect_err(name);
    let problems = error.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert!(p.file.ends_with(name), "{p}");
    format!("{}:{}: {}", p.line, p.column, p.message)
}

#[test]
fn every_good_fixture_validates() {
    for name in [
        "full.yaml",
        "maf_translation.yaml",
        "maf_sentiment.yaml",
        "mcp_tools.yaml",
        "compatible.yaml",
        "anthropic.yaml",
        "reference.yaml",
        "remote.yaml",
        "skills.yaml",
    ] {
        if let Err(error) = validate(fixture(name), &bindings()) {
            panic!("{name}: {error}");
        }
    }
}

#[test]
fn the_full_fixture_maps_every_option_and_schema() {
    let plan = plan_file(&fixture("full.yaml"), &bindings()).unwrap();
    let options: &ChatOptions = &plan.options;
    assert_eq!(options.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(options.temperature, Some(0.3));
    assert_eq!(options.top_p, Some(0.9));
    assert_eq!(options.max_tokens, Some(256));
    assert_eq!(options.seed, Some(7));
    assert_eq!(options.stop, vec!["END".to_string()]);
    assert_eq!(options.parallel_tool_calls, Some(false));
    assert_eq!(options.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(options.extra["frequency_penalty"], serde_json::json!(0.1f32));
    assert_eq!(options.extra["top_k"], 40);
    assert_eq!(options.extra["user"], "weft-test");
    let Some(ResponseFormat::JsonSchema { name, schema, strict }) = &options.response_format else {
        panic!()
    };
    assert_eq!(name, "full_agent");
    assert!(*strict);
    assert_eq!(schema["properties"]["sources"]["items"]["type"], "string");
    assert_eq!(schema["properties"]["detail"]["properties"]["city"]["type"], "string");
    assert_eq!(plan.input_schema.unwrap()["required"], serde_json::json!(["question"]));
    assert!(plan.model_description.contains("http://127.0.0.1:9/v1"), "{}", plan.model_description);
    assert!(!plan.model_description.contains("weft-declarative"), "the key must not show");
}

#[test]
fn mcp_tools_are_planned_with_their_approvals_and_secrets_resolved() {
    let plan = plan_file(&fixture("mcp_tools.yaml"), &bindings()).unwrap();
    assert_eq!(plan.mcp.len(), 2);
    let everything = &plan.mcp[0];
    assert_eq!(everything.allowed_tools, ["echo", "add"]);
    assert_eq!(everything.approval.always_tools, ["add"]);
    assert_eq!(everything.approval.never_tools, ["echo"]);
    match &everything.server {
        weft_declarative::McpServer::Http { headers, .. } => {
            assert_eq!(headers[0], ("X-Token".to_string(), "weft-declarative".to_string()))
        }
        other => panic!("{other:?}"),
    }
    assert!(plan.mcp[1].approval.always);
    match &plan.mcp[1].server {
        weft_declarative::McpServer::Stdio { program, args, .. } => {
            assert_eq!(program, "node");
            assert_eq!(args, &["server.js", "stdio", "--quiet"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_bad_input_is_one_located_problem() {
    let unknown = problem("unknown_field.yaml");
    assert!(unknown.starts_with("3:1: ") && unknown.contains("did you mean `instructions`"), "{unknown}");
    let wrong = problem("wrong_type.yaml");
    assert!(wrong.starts_with("6:18: ") && wrong.contains("invalid floating point"), "{wrong}");
    let missing = problem("missing_kind.yaml");
    assert!(missing.contains("missing field `kind`"), "{missing}");
    let provider = problem("unknown_provider.yaml");
    assert!(provider.starts_with("3:13: ") && provider.contains("did you mean `OpenAI.Chat`"), "{provider}");
    let binding = problem("unknown_binding.yaml");
    assert!(binding.starts_with("5:11: ") && binding.contains("did you mean `get_weather`"), "{binding}");
    let env = problem("missing_env.yaml");
    assert!(env.starts_with("6:13: ") && env.contains("WEFT_SURELY_UNSET_VAR is not set"), "{env}");
    let empty = problem("empty.yaml");
    assert!(empty.contains("empty"), "{empty}");
    let misplaced = problem("misplaced_field.yaml");
    assert_eq!(misplaced, "4:11: `url` does not apply to a `function` tool");
    let hosted = problem("hosted_tool.yaml");
    assert!(
        hosted.contains("`search`") && hosted.contains("web_search") && hosted.contains("OpenAI.Chat"),
        "{hosted}"
    );
}

#[test]
fn each_bad_skills_entry_is_a_problem_at_its_place_naming_the_skill_file() {
    let broken = problem("skills_bad_skill.yaml");
    assert!(broken.starts_with("6:7: skills: "), "{broken}");
    assert!(broken.contains("no-description/SKILL.md: the frontmatter has no `description`"), "{broken}");
    let missing = problem("skills_missing_dir.yaml");
    assert!(
        missing.starts_with("4:11: skills: ") && missing.contains("skills/nowhere: could not read"),
        "{missing}"
    );
    let renamed = problem("skills_renamed.yaml");
    assert!(renamed.starts_with("3:19: skills: "), "{renamed}");
    assert!(renamed.contains("named `original-name` but its folder is `other-name`"), "{renamed}");
    let timeout = problem("skills_timeout_without_scripts.yaml");
    assert_eq!(timeout, "4:3: `skills.scriptTimeout` is given but `skills.scripts` is not true");
}

#[tokio::test]
async fn an_agent_files_skills_are_loaded_read_and_run_after_approval() {
    let loaded = load_agent(fixture("skills.yaml"), &bindings()).await.unwrap();
    let mut session = AgentSession::new();
    let prompt = "Convert 26.2 miles: skill name: unit-converter, resource name: references/table.md, \
                  script name: scripts/hello.sh";
    let response = loaded.agent.run(&mut session, prompt).await.unwrap();
    // The scripted model calls the three skill tools at once; running the script needs approval.
    let requests = response.approval_requests();
    assert_eq!(requests.len(), 1, "{:?}", response.messages);
    assert_eq!(requests[0].call.name, "run_skill_script");
    let response = loaded.agent.run(&mut session, vec![requests[0].approve()]).await.unwrap();
    let text = response.text();
    assert!(text.contains("load_skill returned: <skill name=\"unit-converter\">"), "{text}");
    assert!(text.contains("read_skill_resource returned: | mi | km | 1.60934 |"), "{text}");
    assert!(text.contains("run_skill_script returned: hello from the skill"), "{text}");
}

#[test]
fn every_hosted_tool_field_loads_and_each_hosted_tool_is_refused_at_its_place() {
    // A provider that hosts them (the Responses API): every field reaches the hosted tool.
    let plan = plan_file(&fixture("hosted_tools.yaml"), &bindings()).unwrap();
    assert_eq!(
        plan.options.hosted_tools,
        vec![
            HostedTool::WebSearch {
                options: serde_json::from_value(serde_json::json!({"search_context_size": "low"})).unwrap()
            },
            HostedTool::FileSearch {
                vector_store_ids: vec!["vs_1".into()],
                max_results: Some(5),
                ranker: Some("auto".into()),
                score_threshold: Some(0.5),
                filters: Some(serde_json::json!({"type": "eq", "key": "team", "value": "weft"})),
            },
            HostedTool::CodeInterpreter { file_ids: vec!["file_1".into()] },
        ]
    );
    assert!(plan.options.tools.is_empty(), "a hosted tool is not a function the loop could run");

    // A provider that hosts only web search: the others are refused at their place.
    let error = validate(fixture("bad/hosted_tools_refused.yaml"), &bindings()).unwrap_err();
    let problems: Vec<String> =
        error.problems().iter().map(|p| format!("{}:{}: {}", p.line, p.column, p.message)).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    for (problem, (at, tool, kind)) in problems.iter().zip([
        ("9:11: ", "`docs`", "file_search"),
        ("12:11: ", "`python`", "code_interpreter"),
        ("15:11: ", "`petstore`", "openapi"),
    ]) {
        assert!(problem.starts_with(at) && problem.contains(tool) && problem.contains(kind), "{problem}");
        assert!(problem.contains("`Anthropic`") && problem.contains("hosts web_search"), "{problem}");
    }

    // Chat Completions and the scripted model host none.
    for provider in ["OpenAI.Chat", "scripted"] {
        let text = std::fs::read_to_string(fixture("hosted_tools.yaml"))
            .unwrap()
            .replace("provider: OpenAI.Responses", &format!("provider: {provider}"));
        let error =
            plan_str_with(&text, Path::new("chat.yaml"), &bindings(), &Default::default()).unwrap_err();
        let problems: Vec<String> = error.problems().iter().map(|p| p.message.clone()).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| p.contains(provider) && p.contains("hosts none")), "{problems:?}");
    }
}

/// Every field the agent schema documents is used by a fixture (the schema is generated from
/// the spec types, so a new field without a fixture fails here).
#[test]
fn the_fixtures_use_every_field_of_the_agent_schema() {
    let schema = weft_declarative::agent_json_schema();
    let mut fields: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    for definition in schema["$defs"].as_object().unwrap().values() {
        if let Some(properties) = definition["properties"].as_object() {
            fields.extend(properties.keys().cloned());
        }
    }
    let mut texts = String::new();
    for dir in ["", "bad"] {
        for entry in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                texts.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let missing: Vec<&String> = fields.iter().filter(|field| !texts.contains(&format!("{field}:"))).collect();
    assert!(missing.is_empty(), "fields no fixture uses: {missing:?}");
    assert!(fields.len() >= 50, "{fields:?}");
}

#[tokio::test]
async fn a_bad_file_runs_nothing_not_even_its_mcp_servers() {
    // The stdio server would create `started`; the file's typo stops the load before.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let text = format!(
        "kind: Prompt\nmodel: {{ provider: scripted }}\ninstrucions: typo\ntools:\n  - {{ kind: mcp, name: m, command: touch {} }}\n",
        marker.display()
    );
    let error = agent_from_str(&text, &bindings()).await.unwrap_err();
    assert!(error.to_string().contains("unknown field `instrucions`"), "{error}");
    assert!(!marker.exists(), "the MCP server was started");
    // The same file without the typo does start it (so the check above can fail).
    let text = text.replace("instrucions: typo\n", "");
    let _ = agent_from_str(&text, &bindings()).await;
    assert!(marker.exists(), "the MCP server was not started");
}

#[test]
fn hostile_files_fail_fast() {
    for (name, expected) in [
        ("billion_laughs.yaml", "alias replay limit exceeded"),
        ("deep_nesting.yaml", "recursion limit exceeded"),
    ] {
        let started = Instant::now();
        let error = problem(name);
        assert!(started.elapsed() < Duration::from_secs(5), "{name} took {:?}", started.elapsed());
        assert!(error.contains(expected), "{name}: {error}");
    }
    let dir = std::env::temp_dir().join(format!("weft-decl-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let huge = dir.join("huge.yaml");
    std::fs::write(&huge, format!("kind: Prompt\ndescription: \"{}\"\n", "x".repeat(2 << 20))).unwrap();
    let error = validate(&huge, &bindings()).unwrap_err();
    assert!(error.to_string().contains("over the limit"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_weather_example_runs_on_the_scripted_model_with_its_bound_function() {
    let loaded = load_agent(example("weather.yaml"), &bindings()).await.unwrap();
    let mut session = AgentSession::new();
    let response = loaded.agent.run(&mut session, "What's the weather in Paris?").await.unwrap();
    assert!(response.text().contains("weather in Paris: sunny, 21C"), "{}", response.text());
}

#[tokio::test]
async fn the_structured_output_example_answers_json_of_its_schema() {
    let loaded = load_agent(example("sentiment.yaml"), &bindings()).await.unwrap();
    let mut session = AgentSession::new();
    let response = loaded.agent.run(&mut session, "I love this").await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&response.text()).unwrap();
    assert!(value.get("sentiment").is_some() && value.get("confidence").is_some(), "{value}");
}

#[test]
fn anthropic_models_use_the_messages_provider() {
    let plan = plan_file(&fixture("anthropic.yaml"), &bindings()).unwrap();
    assert_eq!(plan.options.model.as_deref(), Some("claude-test"));
    assert_eq!(plan.model_description, "anthropic messages at http://127.0.0.1:9, model claude-test");
    for provider in ["Anthropic", "anthropic"] {
        let yaml = format!(
            "kind: Prompt\nmodel: {{ id: m, provider: {provider}, connection: {{ kind: anonymous, endpoint: http://127.0.0.1:9 }} }}\n"
        );
        let path =
            std::env::temp_dir().join(format!("weft-anthropic-{provider}-{}.yaml", std::process::id()));
        std::fs::write(&path, yaml).unwrap();
        let plan = plan_file(&path, &bindings());
        std::fs::remove_file(&path).unwrap();
        assert!(plan.unwrap().model_description.starts_with("anthropic messages at"), "{provider}");
    }
}

#[test]
fn the_cli_names_openai_and_azure_name_the_openai_wire_as_weft_run_does() {
    let plan = |provider: &str, api: &str| {
        let yaml = format!(
            "kind: Prompt\nmodel: {{ id: m, provider: {provider}, {api} connection: {{ kind: key, endpoint: https://x.example/v1, key: k-test }} }}\n"
        );
        plan_str_with(&yaml, Path::new("agent.yaml"), &bindings(), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{provider} {api}: {e}"))
            .model_description
    };
    // `openai` and `azure` without an API type call Chat Completions (`weft run`'s default);
    // MAF's `OpenAI` and `AzureOpenAI` call Responses.
    assert_eq!(plan("openai", ""), plan("OpenAI.Chat", ""));
    assert_eq!(plan("openai", "apiType: Responses,"), plan("OpenAI", ""));
    assert_eq!(plan("azure", ""), plan("AzureOpenAI", "apiType: Chat,"));
    assert_eq!(plan("azure", "apiType: Responses,"), plan("AzureOpenAI", ""));
    assert_ne!(plan("openai", ""), plan("OpenAI", ""), "Chat Completions and Responses differ");
}

#[cfg(feature = "bedrock")]
#[test]
fn bedrock_models_use_the_converse_provider() {
    // The connection's key is a Bedrock API key: no AWS credentials are needed.
    let plan = plan_file(&fixture("bedrock.yaml"), &bindings()).unwrap();
    assert_eq!(plan.options.model.as_deref(), Some("us.amazon.nova-lite-v1:0"));
    assert_eq!(
        plan.model_description,
        "bedrock converse at http://127.0.0.1:9, model us.amazon.nova-lite-v1:0"
    );
    for provider in ["Bedrock", "bedrock"] {
        let yaml = format!(
            "kind: Prompt\nmodel: {{ id: m, provider: {provider}, connection: {{ kind: key, endpoint: http://127.0.0.1:9, key: k-test }} }}\n"
        );
        let plan = plan_str_with(&yaml, Path::new("agent.yaml"), &bindings(), &LoadOptions::default());
        assert!(plan.unwrap().model_description.starts_with("bedrock converse at"), "{provider}");
    }
    let bedrock = ModelOverride {
        provider: "bedrock".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
        id: Some("tiny".into()),
        api_key: Some("k-override".into()),
    };
    assert_eq!(
        replaced(bedrock).unwrap().model_description,
        "bedrock converse at http://127.0.0.1:9, model tiny"
    );
    // Bedrock hosts no tool: web search is refused at its place, naming the provider.
    let yaml = "kind: Prompt\nmodel: { id: m, provider: Bedrock, connection: { kind: key, endpoint: http://127.0.0.1:9, key: k } }\ntools:\n  - kind: web_search\n    name: search\n";
    let error = plan_str_with(yaml, Path::new("agent.yaml"), &bindings(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("agent.yaml:4:11") && error.contains("web_search") && error.contains("`Bedrock`"),
        "{error}"
    );
}

#[test]
fn gemini_models_use_the_gemini_provider() {
    for provider in ["Gemini", "Gemini.Chat", "gemini"] {
        let yaml = format!(
            "kind: Prompt\nmodel: {{ id: gemini-2.5-flash, provider: {provider}, connection: {{ kind: key, endpoint: http://127.0.0.1:9/v1beta, key: AIza-weft-declarative }} }}\n"
        );
        let path = std::env::temp_dir().join(format!("weft-gemini-{provider}-{}.yaml", std::process::id()));
        std::fs::write(&path, yaml).unwrap();
        let plan = plan_file(&path, &bindings());
        std::fs::remove_file(&path).unwrap();
        let plan = plan.unwrap();
        assert_eq!(
            plan.model_description, "gemini at http://127.0.0.1:9/v1beta, model gemini-2.5-flash",
            "{provider}"
        );
        assert_eq!(plan.options.model.as_deref(), Some("gemini-2.5-flash"));
    }
    let plan = replaced(ModelOverride {
        provider: "Gemini".into(),
        endpoint: Some("http://127.0.0.1:9/v1beta".into()),
        id: Some("tiny".into()),
        api_key: Some("AIza-override".into()),
    })
    .unwrap();
    assert_eq!(plan.model_description, "gemini at http://127.0.0.1:9/v1beta, model tiny");
}

/// An OpenAI agent whose key variable is unset, with the options that stay when its model is
/// replaced.
const OPENAI_AGENT: &str = "kind: Prompt
name: weather
model:
  id: gpt-4o-mini
  provider: OpenAI.Chat
  connection: { kind: key, apiKey: =Env.WEFT_SURELY_UNSET_VAR }
  options: { temperature: 0.25 }
tools:
  - { kind: function, name: get_weather, parameters: [{ name: city, kind: string }] }
";

fn replaced(model: ModelOverride) -> Result<weft_declarative::Plan, LoadError> {
    let options = LoadOptions { model: Some(model), ..LoadOptions::default() };
    plan_str_with(OPENAI_AGENT, Path::new("agent.yaml"), &bindings(), &options)
}

#[tokio::test]
async fn a_model_override_replaces_the_files_provider_connection_and_id() {
    // As it is, the file needs its variable.
    let error = plan_str_with(OPENAI_AGENT, Path::new("agent.yaml"), &bindings(), &LoadOptions::default())
        .unwrap_err();
    assert!(error.to_string().contains("WEFT_SURELY_UNSET_VAR is not set"), "{error}");
    // On the scripted model, with the file's tools and options.
    let plan = replaced(ModelOverride { provider: "scripted".into(), ..ModelOverride::default() }).unwrap();
    assert_eq!(plan.model_description, "the scripted model");
    assert_eq!(plan.options.temperature, Some(0.25));
    assert_eq!(plan.options.model, None);
    let loaded = finish(plan, |builder| builder).await.unwrap();
    let response = loaded.agent.run(&mut AgentSession::new(), "What's the weather in Paris?").await.unwrap();
    assert!(response.text().contains("weather in Paris: sunny, 21C"), "{}", response.text());
    // On another server and model (the key, never printed, from the override).
    let plan = replaced(ModelOverride {
        provider: "OpenAI.Responses".into(),
        endpoint: Some("http://127.0.0.1:9/v1".into()),
        id: Some("tiny".into()),
        api_key: Some("sk-override-secret".into()),
    })
    .unwrap();
    assert_eq!(plan.model_description, "openai responses at http://127.0.0.1:9/v1, model tiny");
    assert_eq!(plan.options.model.as_deref(), Some("tiny"));
    let anthropic = ModelOverride {
        provider: "Anthropic.Messages".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
        id: Some("tiny".into()),
        api_key: Some("sk-override-secret".into()),
    };
    assert!(!format!("{anthropic:?}").contains("sk-override-secret"), "{anthropic:?}");
    let plan = replaced(anthropic).unwrap();
    assert_eq!(plan.model_description, "anthropic messages at http://127.0.0.1:9, model tiny");
    // An unknown provider is a problem at the file's provider.
    let error = replaced(ModelOverride { provider: "OpenAl.Chat".into(), ..ModelOverride::default() })
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("agent.yaml:5:13: the replacement model's provider `OpenAl.Chat` is unknown"),
        "{error}"
    );
    assert!(error.contains("did you mean `OpenAI.Chat`?"), "{error}");
}

#[tokio::test]
async fn the_maf_documented_agents_load_and_run() {
    // The sentiment analyzer as MAF documents it (on the scripted model): JSON of its schema.
    let loaded = load_agent(fixture("maf_sentiment.yaml"), &bindings()).await.unwrap();
    let response = loaded.agent.run(&mut AgentSession::new(), "I love this").await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&response.text()).unwrap();
    assert!(value["sentiment"].is_string() && value["confidence"].is_number(), "{value}");
    // The translation agent, on Azure OpenAI as written, runs here on the scripted model.
    let options = LoadOptions {
        model: Some(ModelOverride { provider: "scripted".into(), ..ModelOverride::default() }),
        ..LoadOptions::default()
    };
    let plan =
        weft_declarative::plan_file_with(&fixture("maf_translation.yaml"), &bindings(), &options).unwrap();
    assert_eq!(plan.options.temperature, Some(0.3));
    let loaded = finish(plan, |builder| builder).await.unwrap();
    assert_eq!(loaded.agent.name(), "TranslationAgent");
    let response = loaded.agent.run(&mut AgentSession::new(), "Bonjour").await.unwrap();
    assert_eq!(response.text(), "You said: Bonjour");
}

#[tokio::test]
async fn text_loads_too_and_names_its_source() {
    let error = agent_from_str("kind: Prompt\nmodel: { provider: nope }\n", &bindings()).await.unwrap_err();
    assert!(matches!(error, LoadError::Invalid(_)));
    assert!(error.to_string().starts_with("<string>:2:20: unknown provider `nope`"), "{error}");
}

#[test]
fn the_json_schema_describes_the_fields() {
    let schema = weft_declarative::agent_json_schema();
    let text = schema.to_string();
    for field in ["instructions", "outputSchema", "allowedTools", "chatToolMode", "maxOutputTokens"] {
        assert!(text.contains(field), "{field}");
    }
}

#[tokio::test]
#[ignore = "needs the MCP peers (WEFT_MCP_NODE, WEFT_MCP_EVERYTHING): scripts/test installs them"]
async fn the_mcp_example_connects_its_stdio_server_and_the_agent_calls_its_tool() {
    let node = peer("WEFT_MCP_NODE");
    let everything = peer("WEFT_MCP_EVERYTHING");
    let text = std::fs::read_to_string(example("mcp_agent.yaml")).unwrap();
    let text =
        text.replace("npx -y @modelcontextprotocol/server-everything", &format!("{node} {everything}"));
    let loaded = agent_from_str(&text, &bindings()).await.unwrap();
    assert_eq!(loaded.sources.len(), 1);
    let tools = weft_core::ToolSet::tools(&loaded.sources[0]);
    let names: Vec<String> = tools.iter().map(|t| t.definition().name.clone()).collect();
    assert_eq!(names, ["echo"], "allowedTools keeps only echo");
    let mut session = AgentSession::new();
    let response = loaded.agent.run(&mut session, "echo hello").await.unwrap();
    for source in &loaded.sources {
        source.close().await;
    }
    assert!(response.text().contains("echo returned"), "{}", response.text());
}

/// The value of a peer variable (a path that exists); a missing peer fails the test.
fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs the MCP peers; run scripts/test, \
             or `source scripts/peers/mcp.sh` first"
        ),
    }
}

#[test]
fn ollama_is_a_provider_with_its_host_as_the_endpoint() {
    let yaml = "kind: Prompt\nname: local\ninstructions: Be brief.\nmodel:\n  id: llama3.2\n  provider: Ollama\n  connection:\n    kind: anonymous\n    endpoint: http://127.0.0.1:9\n";
    let plan = plan_str_with(yaml, Path::new("agent.yaml"), &bindings(), &LoadOptions::default()).unwrap();
    assert_eq!(plan.model_description, "ollama at http://127.0.0.1:9, model llama3.2");
    assert_eq!(plan.options.model.as_deref(), Some("llama3.2"));
    // As `weft run -f FILE --provider ollama` replaces a file's model; a host as OLLAMA_HOST takes it.
    let plan = replaced(ModelOverride {
        provider: "Ollama".into(),
        endpoint: Some("gpu-box:9999".into()),
        id: Some("qwen3".into()),
        api_key: None,
    })
    .unwrap();
    assert_eq!(plan.model_description, "ollama at http://gpu-box:9999, model qwen3");
}
