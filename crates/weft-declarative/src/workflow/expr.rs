//! Edge conditions written in the file: a small expression over the message an edge carries.
//!
//! ```text
//! expr       := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | comparison
//! comparison := field op string
//! field      := "message.text" | "message.role" | "message.author"
//! op         := "contains" | "equals" | "startsWith" | "endsWith"
//! string     := '…' | "…"     (no escapes)
//! ```
//!
//! The message is the conversation an edge carries; `message.text` is the text of its last
//! message, `message.role` that message's role (`user`, `assistant`, …) and `message.author`
//! its author's name (empty when none). Comparisons are case-sensitive. Example:
//! `message.text contains 'approve' and not message.text contains 'reject'`.
//!
//! Written by hand: the grammar is a dozen lines, and the crates that evaluate expressions
//! (`evalexpr`, `rhai`, CEL) bring a language far larger than a condition needs, with its own
//! error positions and, for scripting engines, a much larger attack surface for a file that
//! may come from elsewhere.

use weft_core::Message;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A comparison of a field with a string.
    Compare {
        /// The field.
        field: Field,
        /// The operator.
        op: Op,
        /// The string.
        value: String,
    },
    /// Negation.
    Not(Box<Expr>),
    /// All hold.
    And(Vec<Expr>),
    /// One holds.
    Or(Vec<Expr>),
}

/// A field of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The last message's text.
    Text,
    /// The last message's role.
    Role,
    /// The last message's author name.
    Author,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The field contains the string.
    Contains,
    /// The field is the string.
    Equals,
    /// The field starts with the string.
    StartsWith,
    /// The field ends with the string.
    EndsWith,
}

/// Why an expression does not parse: the message and the character offset (from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// The offset in the expression, in characters.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl Expr {
    /// Whether the condition holds for a conversation (its last message).
    pub fn holds(&self, conversation: &[Message]) -> bool {
        match self {
            Expr::Compare { field, op, value } => {
                let Some(last) = conversation.last() else { return false };
                let subject = match field {
                    Field::Text => last.text(),
                    Field::Role => last.role.to_string(),
                    Field::Author => last.author_name.clone().unwrap_or_default(),
                };
                match op {
                    Op::Contains => subject.contains(value.as_str()),
                    Op::Equals => subject == *value,
                    Op::StartsWith => subject.starts_with(value.as_str()),
                    Op::EndsWith => subject.ends_with(value.as_str()),
                }
            }
            Expr::Not(inner) => !inner.holds(conversation),
            Expr::And(all) => all.iter().all(|e| e.holds(conversation)),
            Expr::Or(any) => any.iter().any(|e| e.holds(conversation)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<(usize, Token)>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push((i, if c == '(' { Token::Open } else { Token::Close }));
            i += 1;
        } else if c == '\'' || c == '"' {
            let start = i;
            let end = chars[i + 1..].iter().position(|&d| d == c).map(|p| p + i + 1).ok_or_else(|| {
                ExprError { offset: start, message: format!("the string starting here has no closing {c}") }
            })?;
            out.push((start, Token::Str(chars[i + 1..end].iter().collect())));
            i = end + 1;
        } else if c.is_alphanumeric() || c == '.' || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
            out.push((start, Token::Word(chars[start..i].iter().collect())));
        } else {
            return Err(ExprError { offset: i, message: format!("unexpected character `{c}`") });
        }
    }
    Ok(out)
}

/// Parses a condition.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let tokens = tokens(text)?;
    let mut parser = Parser { tokens, position: 0, end: text.chars().count() };
    let expr = parser.or()?;
    match parser.tokens.get(parser.position) {
        None => Ok(expr),
        Some((offset, token)) => Err(ExprError {
            offset: *offset,
            message: format!(
                "unexpected {} after a complete condition: expected `and` or `or`",
                describe(token)
            ),
        }),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(word) => format!("`{word}`"),
        Token::Str(text) => format!("string '{text}'"),
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    position: usize,
    end: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.position), Some((_, Token::Word(w))) if w == word)
    }

    fn next(&mut self, expected: &str) -> Result<(usize, Token), ExprError> {
        let token = self.tokens.get(self.position).cloned().ok_or_else(|| ExprError {
            offset: self.end,
            message: format!("the condition ends early: expected {expected}"),
        })?;
        self.position += 1;
        Ok(token)
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut any = vec![self.and()?];
        while self.peek_word("or") {
            self.position += 1;
            any.push(self.and()?);
        }
        Ok(if any.len() == 1 { any.remove(0) } else { Expr::Or(any) })
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut all = vec![self.unary()?];
        while self.peek_word("and") {
            self.position += 1;
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 { all.remove(0) } else { Expr::And(all) })
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let expected = "`not`, `(` or a field such as `message.text`";
        let (offset, token) = self.next(expected)?;
        match token {
            Token::Word(word) if word == "not" => Ok(Expr::Not(Box::new(self.unary()?))),
            Token::Open => {
                let inner = self.or()?;
                match self.next("`)`")? {
                    (_, Token::Close) => Ok(inner),
                    (offset, other) => Err(ExprError {
                        offset,
                        message: format!("expected `)`, found {}", describe(&other)),
                    }),
                }
            }
            Token::Word(word) => {
                let field = match word.as_str() {
                    "message.text" => Field::Text,
                    "message.role" => Field::Role,
                    "message.author" => Field::Author,
                    other => {
                        let hint = crate::build::closest(other, FIELDS);
                        return Err(ExprError {
                            offset,
                            message: format!("unknown field `{other}`{hint}: expected {}", FIELDS.join(", ")),
                        });
                    }
                };
                let (op_offset, op) = self.next("an operator (contains, equals, startsWith, endsWith)")?;
                let op = match &op {
                    Token::Word(w) if w == "contains" => Op::Contains,
                    Token::Word(w) if w == "equals" => Op::Equals,
                    Token::Word(w) if w == "startsWith" => Op::StartsWith,
                    Token::Word(w) if w == "endsWith" => Op::EndsWith,
                    other => {
                        let hint = match other {
                            Token::Word(w) => crate::build::closest(w, OPS),
                            _ => String::new(),
                        };
                        return Err(ExprError {
                            offset: op_offset,
                            message: format!(
                                "expected an operator ({}), found {}{hint}",
                                OPS.join(", "),
                                describe(other)
                            ),
                        });
                    }
                };
                match self.next("a quoted string")? {
                    (_, Token::Str(value)) => Ok(Expr::Compare { field, op, value }),
                    (offset, other) => Err(ExprError {
                        offset,
                        message: format!("expected a quoted string, found {}", describe(&other)),
                    }),
                }
            }
            other => {
                Err(ExprError { offset, message: format!("expected {expected}, found {}", describe(&other)) })
            }
        }
    }
}

const FIELDS: [&str; 3] = ["message.text", "message.role", "message.author"];
const OPS: [&str; 4] = ["contains", "equals", "startsWith", "endsWith"];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn holds(expr: &str, text: &str) -> bool {
        parse(expr).unwrap().holds(&[Message::assistant(text)])
    }

    #[test]
    fn comparisons_and_logic() {
        assert!(holds("message.text contains 'approve'", "I approve this"));
        assert!(!holds("message.text contains 'approve'", "rejected"));
        assert!(holds("message.text startsWith \"You\"", "You said: hi"));
        assert!(holds("message.text endsWith 'hi'", "You said: hi"));
        assert!(holds("message.text equals 'x'", "x"));
        assert!(holds("message.role equals 'assistant'", "x"));
        assert!(holds("not message.text contains 'no'", "yes"));
        assert!(holds(
            "message.text contains 'a' and (message.text contains 'b' or message.text contains 'z')",
            "ab"
        ));
        assert!(!holds("message.text contains 'a' and not message.text contains 'b'", "ab"));
        assert!(holds("message.text contains 'q' or message.text contains 'b'", "ab"));
        assert!(!parse("message.text contains 'a'").unwrap().holds(&[]));
    }

    #[test]
    fn errors_have_offsets() {
        let error = parse("message.txt contains 'a'").unwrap_err();
        assert_eq!(error.offset, 0);
        assert!(error.message.contains("did you mean `message.text`"), "{}", error.message);
        let error = parse("message.text contain 'a'").unwrap_err();
        assert_eq!(error.offset, 13);
        assert!(error.message.contains("did you mean `contains`"), "{}", error.message);
        let error = parse("message.text contains 'a").unwrap_err();
        assert_eq!(error.offset, 22);
        let error = parse("message.text contains").unwrap_err();
        assert!(error.message.contains("ends early"), "{}", error.message);
        let error = parse("message.text contains 'a' message.text").unwrap_err();
        assert_eq!(error.offset, 26);
        assert!(parse("(message.text contains 'a'").unwrap_err().message.contains("ends early"));
        assert!(parse("message.text contains 'a' ; x").unwrap_err().message.contains("unexpected character"));
    }
}
