//! Messages between executors: typed at the edges, type-erased inside the engine.
//!
//! Every value that travels along an edge, is yielded as an output or emitted as a custom event
//! is a [`WorkflowMessage`]: `Serialize + DeserializeOwned + Clone + Send + Sync + 'static`. The
//! engine carries it as an [`AnyMessage`] (a shared `Arc<dyn Any>` plus a function that turns it
//! into JSON), so fan-out clones are cheap and checkpoints can write every message portably.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A value that can travel through a workflow. Implemented for every type that qualifies.
///
/// `Sync` is required because a fanned-out message is shared (not deep-copied) between its
/// targets until one of them takes it by value.
pub trait WorkflowMessage: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}

impl<T> WorkflowMessage for T where T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}

type ToJson = fn(&(dyn Any + Send + Sync)) -> Result<Value, serde_json::Error>;

/// A type-erased [`WorkflowMessage`]: the value, its type and its JSON form on demand.
#[derive(Clone)]
pub struct AnyMessage {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
    to_json: ToJson,
}

impl fmt::Debug for AnyMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_json() {
            Ok(json) => write!(f, "AnyMessage<{}>({json})", self.type_name),
            Err(_) => write!(f, "AnyMessage<{}>", self.type_name),
        }
    }
}

fn to_json_of<T: WorkflowMessage>(value: &(dyn Any + Send + Sync)) -> Result<Value, serde_json::Error> {
    match value.downcast_ref::<T>() {
        Some(value) => serde_json::to_value(value),
        // Unreachable: the function is always paired with a value of type `T`.
        None => Ok(Value::Null),
    }
}

impl AnyMessage {
    /// Wraps a value.
    pub fn new<T: WorkflowMessage>(value: T) -> Self {
        Self { value: Arc::new(value), type_name: std::any::type_name::<T>(), to_json: to_json_of::<T> }
    }

    /// The Rust type name of the value (`std::any::type_name`: fine for messages and logs, but
    /// not stable across builds; checkpoints use the workflow's stable names instead).
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The `TypeId` of the value.
    pub fn type_id(&self) -> TypeId {
        (*self.value).type_id()
    }

    /// Whether the value is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.value.is::<T>()
    }

    /// The value, when it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.value.downcast_ref::<T>()
    }

    /// The value by value, when it is a `T` (cloned only when the message is shared). A
    /// message made by [`AnyMessage::from_json`] becomes a `T` here when its JSON parses as one.
    pub fn take<T: WorkflowMessage>(self) -> Result<T, Self> {
        let Self { value, type_name, to_json } = self;
        match value.downcast::<T>() {
            Ok(typed) => Ok(Arc::try_unwrap(typed).unwrap_or_else(|shared| (*shared).clone())),
            Err(value) => {
                if let Some(UntypedJson(json)) = value.downcast_ref::<UntypedJson>() {
                    if let Ok(parsed) = serde_json::from_value::<T>(json.clone()) {
                        return Ok(parsed);
                    }
                }
                Err(Self { value, type_name, to_json })
            }
        }
    }

    /// A message holding JSON whose Rust type is decided by whoever takes it (an answer that
    /// arrived as JSON, e.g. through [`crate::WorkflowAgent`] or a web API).
    pub fn from_json(value: Value) -> Self {
        Self::new(UntypedJson(value))
    }

    /// Whether this message was made by [`AnyMessage::from_json`].
    pub fn is_untyped_json(&self) -> bool {
        self.value.is::<UntypedJson>()
    }

    /// The value as JSON.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        (self.to_json)(&*self.value)
    }
}

/// JSON not yet given a Rust type.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(transparent)]
struct UntypedJson(Value);

/// Everything the engine needs to know about one message type, captured generically so that it
/// can check edges and rebuild messages from checkpoints without knowing the type statically.
#[derive(Clone, Copy)]
pub(crate) struct MessageType {
    pub(crate) id: TypeId,
    pub(crate) name: &'static str,
    /// `TypeId` of `Vec<T>`: what a fan-in of `T` delivers.
    pub(crate) vec_id: TypeId,
    /// Rebuilds a `T` message from JSON.
    pub(crate) from_json: fn(Value) -> Result<AnyMessage, serde_json::Error>,
    /// Joins `T` messages into one `Vec<T>` message (a fan-in delivery).
    pub(crate) collect_vec: fn(Vec<AnyMessage>) -> AnyMessage,
}

impl fmt::Debug for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

fn from_json_of<T: WorkflowMessage>(value: Value) -> Result<AnyMessage, serde_json::Error> {
    Ok(AnyMessage::new(serde_json::from_value::<T>(value)?))
}

fn collect_vec_of<T: WorkflowMessage>(messages: Vec<AnyMessage>) -> AnyMessage {
    let items: Vec<T> = messages.into_iter().filter_map(|m| m.take::<T>().ok()).collect();
    AnyMessage::new(items)
}

impl MessageType {
    /// The description of `T`.
    pub(crate) fn of<T: WorkflowMessage>() -> Self {
        Self {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
            vec_id: TypeId::of::<Vec<T>>(),
            from_json: from_json_of::<T>,
            collect_vec: collect_vec_of::<T>,
        }
    }
}

/// The stable names of a workflow's message types: what checkpoints, pending requests and
/// (later) journals call a type, so that another build or process can read them.
///
/// A type registered with [`crate::WorkflowBuilder::message`] has the name given there (and
/// `Vec<T>`, a fan-in's delivery, is called `Vec<name>`); any other type is called by its
/// `std::any::type_name`, as before stable names existed.
#[derive(Debug, Clone, Default)]
pub(crate) struct MessageNames {
    by_id: HashMap<TypeId, String>,
    /// The types whose names are Weft's defaults: registering one under another name renames it.
    builtin: std::collections::HashSet<TypeId>,
}

impl MessageNames {
    /// Marks every name registered so far as a default that a later registration may replace.
    pub(crate) fn mark_builtin(&mut self) {
        self.builtin.extend(self.by_id.keys().copied());
    }

    /// Registers `name` for `message_type`; the name of another type already (an error message
    /// naming it) is refused.
    pub(crate) fn insert(&mut self, message_type: &MessageType, name: &str) -> Result<(), String> {
        if self.builtin.remove(&message_type.id) {
            self.by_id.remove(&message_type.id);
        }
        if let Some(existing) = self.by_id.get(&message_type.id) {
            if existing != name {
                return Err(format!("{} is already named '{existing}'", message_type.name));
            }
        }
        if self.by_id.iter().any(|(id, n)| *id != message_type.id && n == name) {
            return Err(format!("'{name}' already names another type than {}", message_type.name));
        }
        self.by_id.insert(message_type.id, name.to_string());
        Ok(())
    }

    /// The stable name of a type.
    pub(crate) fn of_type(&self, message_type: &MessageType) -> String {
        self.name(message_type.id, message_type.name)
    }

    /// The stable name of a message's type.
    pub(crate) fn of_message(&self, message: &AnyMessage) -> String {
        self.name(message.type_id(), message.type_name())
    }

    /// The stable name of `T`.
    pub(crate) fn of<T: 'static>(&self) -> String {
        self.name(TypeId::of::<T>(), std::any::type_name::<T>())
    }

    fn name(&self, id: TypeId, rust_name: &'static str) -> String {
        self.by_id.get(&id).cloned().unwrap_or_else(|| rust_name.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn take_and_json_round_trip() {
        let message = AnyMessage::new(vec![1_i64, 2]);
        assert!(message.is::<Vec<i64>>());
        assert_eq!(message.to_json().unwrap(), serde_json::json!([1, 2]));
        let shared = message.clone();
        assert_eq!(message.take::<Vec<i64>>().unwrap(), vec![1, 2]);
        assert!(shared.clone().take::<String>().is_err());
        let back = (MessageType::of::<Vec<i64>>().from_json)(serde_json::json!([3])).unwrap();
        assert_eq!(back.get::<Vec<i64>>(), Some(&vec![3]));
        let joined =
            (MessageType::of::<i64>().collect_vec)(vec![AnyMessage::new(1_i64), AnyMessage::new(2_i64)]);
        assert_eq!(joined.get::<Vec<i64>>(), Some(&vec![1, 2]));
    }
}
