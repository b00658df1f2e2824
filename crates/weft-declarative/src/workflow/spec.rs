//! The YAML shape of a Weft workflow file (`kind: Workflow`). Field names are camelCase, as in
//! agent files. Names that are looked up later (executors, bindings, files) keep their place
//! ([`Text`]) so that errors point at them.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::{Location, Spanned};

use crate::spec::{AgentSpec, Text};

/// A workflow: a graph (`executors`, `edges`) or an `orchestration` of `participants`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "Weft declarative workflow")]
pub struct WorkflowSpec {
    /// Always `Workflow`.
    #[schemars(with = "WorkflowKind")]
    pub kind: Text,
    /// The workflow's name (shown in events and checkpoints).
    #[schemars(with = "Option<String>")]
    pub name: Option<Text>,
    /// What the workflow does.
    pub description: Option<String>,
    /// The executor that receives the input (default: the first executor). With
    /// `orchestration: handoff`, the agent that answers first.
    #[schemars(with = "Option<String>")]
    pub start: Option<Text>,
    /// The graph's executors (not with `orchestration`).
    #[serde(default)]
    pub executors: Vec<ExecutorSpec>,
    /// The graph's edges (not with `orchestration`).
    #[serde(default)]
    pub edges: Vec<EdgeSpec>,
    /// Executors whose results are the workflow's outputs (default: those with no outgoing
    /// edge).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub outputs: Vec<Text>,
    /// Where checkpoints go: `memory`, `file:DIR` or `sqlite:PATH` (relative to the file).
    #[schemars(with = "Option<String>")]
    pub checkpoint: Option<Text>,
    /// The most supersteps of one run (default 1000).
    pub max_supersteps: Option<u64>,
    /// A prebuilt multi-agent orchestration instead of a graph.
    #[schemars(with = "Option<Orchestration>")]
    pub orchestration: Option<Text>,
    /// The orchestration's agents: paths to agent files or inline agents (each needs a unique
    /// `name`).
    #[serde(default)]
    #[schemars(with = "Vec<AgentRefSchema>")]
    pub participants: Vec<AgentRef>,
    /// `group_chat`: the agent that picks the next speaker (default: round robin).
    /// `magentic`: the manager agent (required).
    #[schemars(with = "Option<AgentRefSchema>")]
    pub manager: Option<AgentRef>,
    /// `group_chat`, `magentic`: the most participant turns.
    pub max_rounds: Option<usize>,
    /// `group_chat`: end the chat when this condition over the conversation holds (checked
    /// after each turn): `when` (an expression over the last message) or `predicate` (a
    /// condition registered with `Bindings::predicate`).
    pub terminate: Option<ConditionSpec>,
    /// `concurrent`: the function registered with `Bindings::aggregator` that joins what the
    /// participants added into the output (default: each one's last message, in order).
    #[schemars(with = "Option<String>")]
    pub aggregator: Option<Text>,
    /// `magentic`: stalled steps before re-planning.
    pub max_stalls: Option<usize>,
    /// `magentic`: re-plans before giving up.
    pub max_resets: Option<usize>,
    /// `magentic`: ask a human to review the plan first.
    pub plan_review: Option<bool>,
    /// `handoff`: who may hand off to whom (default: everyone to everyone).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<String>>")]
    pub handoffs: BTreeMap<String, Vec<Text>>,
    /// `handoff`: ask the user for the next message when an agent answers without handing off.
    pub human_input: Option<bool>,
}

/// The values of `kind` (for the JSON Schema).
#[derive(JsonSchema)]
#[allow(dead_code)]
enum WorkflowKind {
    Workflow,
}

/// The orchestrations (for the JSON Schema).
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Orchestration {
    Sequential,
    Concurrent,
    Handoff,
    GroupChat,
    Magentic,
}

/// The orchestrations Weft builds.
pub const ORCHESTRATIONS: [&str; 5] = ["sequential", "concurrent", "handoff", "group_chat", "magentic"];

/// One executor: exactly one of `agent`, `function`, `workflow` or `request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecutorSpec {
    /// Its id, unique in the workflow (edges name it).
    #[schemars(with = "String")]
    pub id: Text,
    /// What it does (informative).
    pub description: Option<String>,
    /// An agent: a path to an agent file (relative to this file) or an inline agent.
    #[schemars(with = "Option<AgentRefSchema>")]
    pub agent: Option<AgentRef>,
    /// A Rust function registered in the `Bindings` (`Bindings::executor`).
    #[schemars(with = "Option<String>")]
    pub function: Option<Text>,
    /// A sub-workflow: a path to a workflow file (relative to this file).
    #[schemars(with = "Option<String>")]
    pub workflow: Option<Text>,
    /// Human input: the question asked; the answer is appended to the conversation as a user
    /// message.
    #[schemars(with = "Option<String>")]
    pub request: Option<Text>,
}

/// One edge: `from` → `to` (direct; conditional with `when` or `predicate`), `from` → several
/// `to` (fan-out), several `from` → `to` (fan-in), or `from` → `switch` cases and a `default`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EdgeSpec {
    /// The source executor (a list: a fan-in).
    #[schemars(with = "NamesSchema")]
    pub from: Names,
    /// The target executor (a list: a fan-out).
    #[schemars(with = "Option<NamesSchema>")]
    pub to: Option<Names>,
    /// A condition over the message, e.g. `message.text contains 'approve'`.
    #[schemars(with = "Option<String>")]
    pub when: Option<Text>,
    /// A condition registered in the `Bindings` (`Bindings::predicate`).
    #[schemars(with = "Option<String>")]
    pub predicate: Option<Text>,
    /// Cases tried in order: a message goes to the first that accepts it.
    #[serde(default)]
    pub switch: Vec<CaseSpec>,
    /// A switch's target when no case accepts the message.
    #[schemars(with = "Option<String>")]
    pub default: Option<Text>,
}

/// A condition: `when` (an expression over the message) or `predicate` (a registered one).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConditionSpec {
    /// A condition over the message, e.g. `message.text contains 'DONE'`.
    #[schemars(with = "Option<String>")]
    pub when: Option<Text>,
    /// A condition registered in the `Bindings` (`Bindings::predicate`).
    #[schemars(with = "Option<String>")]
    pub predicate: Option<Text>,
}

/// One case of a switch.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaseSpec {
    /// A condition over the message.
    #[schemars(with = "Option<String>")]
    pub when: Option<Text>,
    /// A registered condition.
    #[schemars(with = "Option<String>")]
    pub predicate: Option<Text>,
    /// Where accepted messages go.
    #[schemars(with = "String")]
    pub to: Text,
}

/// An agent by path or inline, with its place.
#[derive(Debug)]
pub struct AgentRef {
    /// Where it is in the file.
    pub at: Location,
    /// The path or the agent.
    pub source: AgentSource,
}

/// Where an agent comes from.
#[derive(Debug)]
pub enum AgentSource {
    /// A path to an agent file, relative to the workflow file.
    Path(String),
    /// An agent written in the workflow file.
    Inline(Box<AgentSpec>),
}

/// An agent's schema: a path or an inline agent.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum AgentRefSchema {
    Path(String),
    Inline(Box<AgentSpec>),
}

/// One executor name or several.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum NamesSchema {
    One(String),
    Many(Vec<String>),
}

/// One name or a list of names, each with its place.
#[derive(Debug)]
pub struct Names {
    /// The names.
    pub names: Vec<Text>,
    /// Whether a list was written.
    pub list: bool,
    /// Where the name or the list is in the file.
    pub at: Location,
}

// Hand-written visitors instead of `#[serde(untagged)]`: an untagged enum buffers the input and
// loses the positions and messages of the errors inside it.
enum RawAgent {
    Path(String),
    Inline(Box<AgentSpec>),
}

impl<'de> Deserialize<'de> for RawAgent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AgentVisitor;
        impl<'de> Visitor<'de> for AgentVisitor {
            type Value = RawAgent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path to an agent file or an inline agent")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(RawAgent::Path(value.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let spec = AgentSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawAgent::Inline(Box::new(spec)))
            }
        }
        deserializer.deserialize_any(AgentVisitor)
    }
}

impl<'de> Deserialize<'de> for AgentRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RawAgent>::deserialize(deserializer)?;
        let source = match spanned.value {
            RawAgent::Path(path) => AgentSource::Path(path),
            RawAgent::Inline(spec) => AgentSource::Inline(spec),
        };
        Ok(AgentRef { at: spanned.referenced, source })
    }
}

enum RawNames {
    One(String),
    Many(Vec<Text>),
}

impl<'de> Deserialize<'de> for RawNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamesVisitor;
        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = RawNames;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an executor id or a list of executor ids")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(RawNames::One(value.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = seq.next_element::<Text>()? {
                    out.push(name);
                }
                Ok(RawNames::Many(out))
            }
        }
        deserializer.deserialize_any(NamesVisitor)
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RawNames>::deserialize(deserializer)?;
        let at = spanned.referenced;
        Ok(match spanned.value {
            RawNames::One(name) => Names {
                names: vec![Spanned::new(name, spanned.referenced, spanned.defined)],
                list: false,
                at,
            },
            RawNames::Many(names) => Names { names, list: true, at },
        })
    }
}

/// Only the `kind` of a file, to tell agents from workflows.
#[derive(Debug, Deserialize)]
pub(crate) struct KindOnly {
    pub(crate) kind: Option<String>,
}
