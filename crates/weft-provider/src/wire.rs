//! Request-body helpers that more than one wire shares.

use serde_json::{Value, json};
use weft_core::{Content, Message, Role};

/// The conversation as alternating user and assistant turns, as Anthropic's Messages API and
/// Bedrock's Converse take it: `[{"role": "user", "content": [block, …]}, …]`. System messages
/// are left out (both APIs take them apart), tool results are the user's, each content becomes
/// the block `block` makes of it (`None`: the API has no block for it), a message without
/// blocks is dropped, and consecutive messages of one role merge into one turn.
pub fn merged_turns(messages: &[Message], block: impl Fn(Role, &Content) -> Option<Value>) -> Vec<Value> {
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let role = match message.role {
            Role::System => continue,
            Role::Assistant => "assistant",
            Role::User | Role::Tool => "user",
        };
        let blocks: Vec<Value> =
            message.contents.iter().filter_map(|content| block(message.role, content)).collect();
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, last_blocks)) if *last == role => last_blocks.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    turns.into_iter().map(|(role, content)| json!({"role": role, "content": content})).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_merge_by_role_and_skip_what_has_no_block() {
        let messages = [
            Message::system("be brief"),
            Message::user("a"),
            Message::user(""),
            Message::user("b"),
            Message::assistant("c"),
        ];
        let text = |_: Role, content: &Content| match content {
            Content::Text { text } if !text.is_empty() => Some(json!(text)),
            _ => None,
        };
        let turns = merged_turns(&messages, text);
        assert_eq!(
            Value::Array(turns),
            json!([{"role": "user", "content": ["a", "b"]}, {"role": "assistant", "content": ["c"]}])
        );
    }
}
