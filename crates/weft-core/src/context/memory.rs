//! An example context provider: remembers facts the user states and recalls the relevant ones
//! in later runs, in any session of any agent that shares the provider.
//!
//! A fact is a sentence of a user message that is not a question (`My favourite colour is
//! teal.`). Before a run, the facts closest to the run's input are added to the instructions:
//! by shared keywords, or by embedding similarity when an [`EmbeddingClient`] is set.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{AddedContext, ContextProvider, RunEnd, RunStart};
use crate::embedding::{EmbeddingClient, EmbeddingOptions, cosine_similarity};
use crate::error::BoxError;
use crate::message::{Message, Role};

/// The default number of facts recalled for one run.
pub const DEFAULT_MAX_RECALLED: usize = 5;
/// The default least cosine similarity of a fact recalled by embedding.
pub const DEFAULT_MIN_SIMILARITY: f32 = 0.3;

/// Words too common to match facts by.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "was", "what", "which", "who", "how", "you", "your", "that", "this", "with",
    "have", "has", "had", "not", "but", "can", "does", "did", "from", "they", "them", "there", "about",
    "tell", "please", "know", "its", "all", "any",
];

/// A remembered fact.
#[derive(Debug, Clone)]
struct Fact {
    text: String,
    words: HashSet<String>,
    vector: Option<Vec<f32>>,
}

/// Remembers facts from conversations and recalls the relevant ones (see the module docs).
/// Share one (`Arc`) between agents and sessions; the facts live in memory.
pub struct MemoryProvider {
    facts: Mutex<Vec<Fact>>,
    embedder: Option<(Arc<dyn EmbeddingClient>, EmbeddingOptions)>,
    max_recalled: usize,
    min_similarity: f32,
}

impl std::fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryProvider")
            .field("facts", &self.facts().len())
            .field("embeddings", &self.embedder.is_some())
            .finish()
    }
}

impl Default for MemoryProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryProvider {
    /// An empty memory that recalls by keyword.
    pub fn new() -> Self {
        Self {
            facts: Mutex::new(Vec::new()),
            embedder: None,
            max_recalled: DEFAULT_MAX_RECALLED,
            min_similarity: DEFAULT_MIN_SIMILARITY,
        }
    }

    /// Recalls by embedding similarity (at least `min_similarity`, see
    /// [`MemoryProvider::min_similarity`]) instead of keywords.
    pub fn with_embeddings(mut self, client: Arc<dyn EmbeddingClient>, options: EmbeddingOptions) -> Self {
        self.embedder = Some((client, options));
        self
    }

    /// The most facts recalled for one run (default [`DEFAULT_MAX_RECALLED`]).
    pub fn max_recalled(mut self, count: usize) -> Self {
        self.max_recalled = count;
        self
    }

    /// The least cosine similarity of a fact recalled by embedding (default
    /// [`DEFAULT_MIN_SIMILARITY`]).
    pub fn min_similarity(mut self, similarity: f32) -> Self {
        self.min_similarity = similarity;
        self
    }

    /// The facts remembered, oldest first.
    pub fn facts(&self) -> Vec<String> {
        self.lock().iter().map(|fact| fact.text.clone()).collect()
    }

    /// Remembers the facts stated in `text` (its sentences that are not questions); returns
    /// how many were new.
    pub async fn remember(&self, text: &str) -> Result<usize, BoxError> {
        let known: HashSet<String> = self.facts().into_iter().collect();
        let mut new: Vec<String> = Vec::new();
        for sentence in sentences(text) {
            if !known.contains(&sentence) && !new.contains(&sentence) {
                new.push(sentence);
            }
        }
        let vectors = match &self.embedder {
            Some(_) if new.is_empty() => Vec::new(),
            Some((client, options)) => client.embed(new.clone(), options.clone()).await?.vectors,
            None => Vec::new(),
        };
        let mut vectors = vectors.into_iter();
        let count = new.len();
        let mut facts = self.lock();
        for text in new {
            let words = keywords(&text);
            facts.push(Fact { text, words, vector: vectors.next() });
        }
        Ok(count)
    }

    /// The remembered facts most relevant to `query`, best first.
    pub async fn recall(&self, query: &str) -> Result<Vec<String>, BoxError> {
        let facts = self.lock().clone();
        if facts.is_empty() || self.max_recalled == 0 {
            return Ok(Vec::new());
        }
        let mut scored: Vec<(f32, String)> = match &self.embedder {
            Some((client, options)) => {
                let query = client.embed(vec![query.to_string()], options.clone()).await?.vectors;
                let Some(query) = query.first() else { return Ok(Vec::new()) };
                facts
                    .into_iter()
                    .filter_map(|fact| {
                        let similarity = cosine_similarity(query, fact.vector.as_deref()?);
                        (similarity >= self.min_similarity).then_some((similarity, fact.text))
                    })
                    .collect()
            }
            None => {
                let query = keywords(query);
                facts
                    .into_iter()
                    .filter_map(|fact| {
                        let shared = fact.words.intersection(&query).count();
                        (shared > 0).then_some((shared as f32, fact.text))
                    })
                    .collect()
            }
        };
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(scored.into_iter().take(self.max_recalled).map(|(_, text)| text).collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fact>> {
        // A fact list stays valid whatever a panicking holder did: take it back.
        self.facts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The text of the user messages in `messages`.
fn user_text(messages: &[Message]) -> String {
    messages.iter().filter(|m| m.role == Role::User).map(Message::text).collect::<Vec<_>>().join("\n")
}

/// The statements in `text`: its sentences of three words or more that are not questions.
fn sentences(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if matches!(c, '.' | '!' | '?' | '\n') {
            push_statement(&mut found, &current);
            current.clear();
        }
    }
    push_statement(&mut found, &current);
    found
}

fn push_statement(found: &mut Vec<String>, sentence: &str) {
    let sentence = sentence.trim();
    if !sentence.ends_with('?') && sentence.split_whitespace().count() >= 3 {
        found.push(sentence.to_string());
    }
}

/// The words of `text` worth matching: lowercase, three letters or more, not stopwords.
fn keywords(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= 3 && !STOPWORDS.contains(&word.as_str()))
        .collect()
}

#[async_trait]
impl ContextProvider for MemoryProvider {
    fn name(&self) -> &str {
        "memory"
    }

    async fn before_run(&self, run: RunStart<'_>) -> Result<AddedContext, BoxError> {
        let recalled = self.recall(&user_text(run.input)).await?;
        if recalled.is_empty() {
            return Ok(AddedContext::default());
        }
        let list: Vec<String> = recalled.iter().map(|fact| format!("- {fact}")).collect();
        Ok(AddedContext::new()
            .instruction(format!("Facts the user told you in earlier conversations:\n{}", list.join("\n"))))
    }

    async fn after_run(&self, run: RunEnd<'_>) -> Result<(), BoxError> {
        self.remember(&user_text(run.input)).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_facts_and_questions_are_not() {
        assert_eq!(
            sentences("My name is Ada. What is yours? I live in Paris!\nok"),
            vec!["My name is Ada.".to_string(), "I live in Paris!".to_string()]
        );
    }

    #[tokio::test]
    async fn recall_ranks_by_shared_keywords() {
        let memory = MemoryProvider::new();
        memory.remember("My favourite colour is teal. I live in Paris. My dog is called Rex.").await.unwrap();
        assert_eq!(memory.remember("I live in Paris.").await.unwrap(), 0, "known facts are not stored twice");
        assert_eq!(
            memory.recall("What colour do I like, my favourite?").await.unwrap(),
            vec!["My favourite colour is teal."]
        );
        assert!(memory.recall("quantum chromodynamics").await.unwrap().is_empty());
    }
}
