//! What the user told the scripted model about themselves, read back from the conversation: facts
//! stated (`My name is Ada.`), questions about them (`What is my name?`), and follow-ups
//! (`and in Rome?`).

use crate::message::{Message, Role};

use super::words::{meaningful, related, words};

/// A fact the user stated: `my <key> is <value>` or `I am <Name>` / `I'm <Name>` / `call me
/// <Name>` (key `name`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fact {
    /// What it is about, lowercase (`name`, `favourite colour`).
    pub(super) key: String,
    /// The value, as the user wrote it.
    pub(super) value: String,
}

/// The facts stated in a conversation's user messages, oldest first.
pub(super) fn facts(messages: &[Message]) -> Vec<Fact> {
    messages.iter().filter(|m| m.role == Role::User).flat_map(|m| facts_in(&m.text())).collect()
}

/// The latest fact about `key` (the same words, or related ones).
pub(super) fn recall<'a>(facts: &'a [Fact], key: &str) -> Option<&'a Fact> {
    let asked: Vec<String> = words(key).into_iter().filter(|w| meaningful(w)).collect();
    facts.iter().rev().find(|fact| {
        fact.key == key
            || (!asked.is_empty()
                && asked.iter().all(|a| words(&fact.key).iter().any(|k| k == a || related(k, a))))
    })
}

/// The answer to a statement of facts: `Nice to meet you, Ada.`, `Noted: your city is Lisbon.`
pub(super) fn acknowledge(stated: &[Fact]) -> String {
    let parts: Vec<String> = stated
        .iter()
        .map(|fact| match fact.key.as_str() {
            "name" => format!("Nice to meet you, {}.", fact.value),
            key => format!("Noted: your {key} is {}.", fact.value),
        })
        .collect();
    parts.join(" ")
}

/// The answer to a question about a fact: `Your name is Ada.`, or that it was never told.
pub(super) fn answer_about(key: &str, fact: Option<&Fact>) -> String {
    match fact {
        Some(fact) => format!("Your {key} is {}.", fact.value),
        None => format!("You have not told me your {key} yet."),
    }
}

/// Words that open a question.
const QUESTION_OPENERS: &[&str] =
    &["what", "what's", "whats", "who", "which", "tell", "remind", "do", "does", "did", "can", "remember"];

/// Words that may stand before `my <key>` in a question about the user's own facts.
const MEMORY_QUESTION_WORDS: &[&str] = &[
    "what", "what's", "whats", "which", "who", "is", "was", "are", "do", "does", "you", "remember", "know",
    "tell", "me", "remind", "can", "again", "please", "still", "i", "said",
];

/// A token lowercased, without surrounding punctuation (keeping inner apostrophes).
fn clean(token: &str) -> String {
    token.trim_matches(|c: char| !c.is_alphanumeric()).replace('’', "'").to_lowercase()
}

fn is_question(text: &str) -> bool {
    let text = text.trim();
    text.ends_with('?')
        || text
            .split_whitespace()
            .next()
            .is_some_and(|first| QUESTION_OPENERS.contains(&clean(first).as_str()))
}

/// The key a question asks about, when it is a question about the user's own facts: `name` for
/// `What is my name?`, `Who am I?` or `Do you remember my name?`; `favourite colour` for
/// `What's my favourite colour?`. `What's the weather in my city?` is not one (it asks about the
/// weather).
pub(super) fn asked_key(prompt: &str) -> Option<String> {
    if !is_question(prompt) {
        return None;
    }
    let tokens: Vec<String> = prompt.split_whitespace().map(clean).filter(|t| !t.is_empty()).collect();
    if tokens == ["who", "am", "i"] {
        return Some("name".into());
    }
    let my = tokens.iter().position(|t| t == "my")?;
    if !tokens[..my].iter().all(|t| MEMORY_QUESTION_WORDS.contains(&t.as_str())) {
        return None;
    }
    let key: Vec<&str> = tokens[my + 1..]
        .iter()
        .map(String::as_str)
        .take_while(|t| !matches!(*t, "is" | "are" | "was" | "again" | "please"))
        .collect();
    (!key.is_empty() && key.len() <= 3).then(|| key.join(" "))
}

/// The sentences of a text, each with whether it asks something (ends with `?`). A `.` splits
/// only before whitespace or at the end, so `2.1` and `notes.txt` stay whole.
fn sentences(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        let ends = match ch {
            '?' | '!' | ';' | '\n' => true,
            '.' => chars.peek().is_none_or(|next| next.is_whitespace()),
            _ => false,
        };
        if ends {
            if !current.trim().is_empty() {
                out.push((std::mem::take(&mut current), ch == '?'));
            }
            current.clear();
        } else {
            current.push(ch);
        }
    }
    if !current.trim().is_empty() {
        out.push((current, false));
    }
    out
}

/// Whether a token starts with an uppercase letter.
fn capitalized(token: &str) -> bool {
    token.trim_start_matches(|c: char| !c.is_alphanumeric()).chars().next().is_some_and(char::is_uppercase)
}

/// A value: the tokens up to a clause break (`and`, `but`, a comma), without end punctuation.
fn value_from(tokens: &[&str]) -> String {
    let mut value = Vec::new();
    for token in tokens {
        if matches!(clean(token).as_str(), "and" | "but" | "so") {
            break;
        }
        let ends_clause = token.ends_with(',');
        value.push(token.trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')'));
        if ends_clause {
            break;
        }
    }
    value.join(" ").trim().to_string()
}

/// A name: the capitalized tokens from the start (`Ada Lovelace`).
fn name_from(tokens: &[&str]) -> Option<String> {
    let name: Vec<&str> = tokens
        .iter()
        .take_while(|t| capitalized(t))
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    (!name.is_empty()).then(|| name.join(" "))
}

/// The facts a text states (questions state none).
pub(super) fn facts_in(text: &str) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (sentence, question) in sentences(text) {
        if question {
            continue;
        }
        let tokens: Vec<&str> = sentence.split_whitespace().collect();
        let lower: Vec<String> = tokens.iter().map(|t| clean(t)).collect();
        let mut i = 0;
        while i < tokens.len() {
            let rest = &lower[i..];
            if rest.first().is_some_and(|t| t == "my") {
                if let Some((fact, used)) = my_key_is_value(&tokens[i + 1..], &lower[i + 1..]) {
                    facts.push(fact);
                    i += 1 + used;
                    continue;
                }
            }
            let name_at = match rest {
                [i_, am, ..] if i_ == "i" && am == "am" => Some(2),
                [im, ..] if im == "i'm" => Some(1),
                [call, me, ..] if call == "call" && me == "me" => Some(2),
                _ => None,
            };
            if let Some(offset) = name_at {
                if let Some(name) = name_from(&tokens[i + offset..]) {
                    facts.push(Fact { key: "name".into(), value: name });
                }
            }
            i += 1;
        }
    }
    facts
}

/// `<key words> is <value>` after a `my`: the fact and how many tokens it used.
fn my_key_is_value(tokens: &[&str], lower: &[String]) -> Option<(Fact, usize)> {
    for (j, word) in lower.iter().enumerate().take(4) {
        let (key_end, value_start) = if matches!(word.as_str(), "is" | "are" | "was") {
            (j, j + 1)
        } else if let Some(stem) = word.strip_suffix("'s") {
            // `my name's Ada`
            if stem.is_empty() {
                return None;
            }
            (j + 1, j + 1)
        } else {
            continue;
        };
        let mut key: Vec<String> = lower[..key_end].to_vec();
        if let Some(last) = key.last_mut() {
            if let Some(stem) = last.strip_suffix("'s") {
                *last = stem.to_string();
            }
        }
        if key.is_empty() || !key.iter().all(|k| k.chars().all(char::is_alphabetic)) {
            return None;
        }
        let value = value_from(&tokens[value_start..]);
        if value.is_empty() {
            return None;
        }
        let used = value_start + value.split_whitespace().count();
        return Some((Fact { key: key.join(" "), value }, used));
    }
    None
}

/// Whether a prompt continues the previous request with something else: `and in Rome?`, `what
/// about Rome?`, `how about 5 and 7?`, `same for Oslo`.
pub(super) fn is_follow_up(prompt: &str) -> bool {
    let lower = prompt.trim().to_lowercase();
    ["and ", "what about ", "how about ", "same for ", "also "].iter().any(|marker| lower.starts_with(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(key: &str, value: &str) -> Fact {
        Fact { key: key.into(), value: value.into() }
    }

    #[test]
    fn statements_give_facts_and_questions_do_not() {
        assert_eq!(facts_in("My name is Ada."), vec![fact("name", "Ada")]);
        assert_eq!(facts_in("Hi! I'm Ada Lovelace"), vec![fact("name", "Ada Lovelace")]);
        assert_eq!(
            facts_in("my favourite colour is dark blue and my city is Lisbon"),
            vec![fact("favourite colour", "dark blue"), fact("city", "Lisbon")]
        );
        assert_eq!(facts_in("my name's Bob, thanks"), vec![fact("name", "Bob")]);
        assert!(facts_in("What is my name?").is_empty());
        assert!(facts_in("I am tired").is_empty());
        assert!(facts_in("Do you know what my name is?").is_empty());
    }

    #[test]
    fn questions_about_the_user_name_their_key() {
        assert_eq!(asked_key("What is my name?").as_deref(), Some("name"));
        assert_eq!(asked_key("Who am I?").as_deref(), Some("name"));
        assert_eq!(asked_key("do you remember my favourite colour?").as_deref(), Some("favourite colour"));
        assert_eq!(asked_key("What's the weather in my city?"), None);
        assert_eq!(asked_key("My name is Ada."), None);
    }

    #[test]
    fn the_latest_fact_wins() {
        let facts = vec![fact("name", "Ada"), fact("city", "Lisbon"), fact("name", "Grace")];
        assert_eq!(recall(&facts, "name").map(|f| f.value.as_str()), Some("Grace"));
        assert_eq!(recall(&facts, "dog"), None);
        assert_eq!(answer_about("dog", None), "You have not told me your dog yet.");
    }
}
