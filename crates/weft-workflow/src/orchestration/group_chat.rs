//! A group chat: a manager picks who speaks next until a termination condition holds.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use weft_core::{Agent, AgentSession, ChatOptions, Content, Message, ResponseFormat, Role};

use super::{INPUT_LEN_KEY, added_messages, check_participants};
use crate::CheckpointStore;
use crate::context::WorkflowContext;
use crate::error::{BoxError, BuildError};
use crate::executor::Executor;
use crate::workflow::Workflow;

const ROUND_KEY: &str = "weft.group_chat.round";
const LAST_SPEAKER_KEY: &str = "weft.group_chat.last_speaker";
/// The conversation as it stood when the last speaker was picked, and the length of the view
/// of it the speaker was sent (see [`speaker_view`]).
const SENT_KEY: &str = "weft.group_chat.sent";
/// The executor id of the manager.
const MANAGER_ID: &str = "group_chat_manager";
/// What an agent manager answers to end the chat.
const FINISH: &str = "FINISH";

/// Where a group chat stands when the manager picks the next speaker.
#[derive(Debug, Clone)]
pub struct GroupChatState {
    /// The participants' names, in the order they were added.
    pub participants: Vec<String>,
    /// The conversation so far.
    pub conversation: Vec<Message>,
    /// How many participant turns have been taken.
    pub round: usize,
    /// Who spoke last.
    pub last_speaker: Option<String>,
}

type Pick = Arc<dyn Fn(&GroupChatState) -> Option<String> + Send + Sync>;
type Predicate = Arc<dyn Fn(&GroupChatState) -> bool + Send + Sync>;

/// How the next speaker is chosen.
#[derive(Clone)]
pub enum SpeakerSelector {
    /// Each participant in turn.
    RoundRobin,
    /// A function of the state: the next speaker's name, or `None` to finish.
    Function(Pick),
    /// An agent asked with structured output (`{"next_speaker": <name or "FINISH">}`).
    Agent(Arc<dyn Agent>),
}

impl std::fmt::Debug for SpeakerSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpeakerSelector::RoundRobin => f.write_str("RoundRobin"),
            SpeakerSelector::Function(_) => f.write_str("Function"),
            SpeakerSelector::Agent(agent) => write!(f, "Agent({})", agent.name()),
        }
    }
}

impl SpeakerSelector {
    /// A selector from a function.
    pub fn function(pick: impl Fn(&GroupChatState) -> Option<String> + Send + Sync + 'static) -> Self {
        SpeakerSelector::Function(Arc::new(pick))
    }
}

/// Builds a group chat: the manager picks a participant, the participant answers seeing the
/// whole conversation, and so on, until the manager finishes, `max_rounds` turns were taken
/// (default 10) or the termination predicate holds. The output is the messages the
/// participants added.
///
/// A speaker sees the other participants' turns as user messages carrying their author's name
/// (its own turns stay assistant messages), as MAF's group chat presents them: a model then
/// never gets a conversation ending with several assistant turns it did not write, which
/// servers such as llama.cpp's refuse. Only those turns' text is shown; their tool calls and
/// results stay theirs. The conversation the chat keeps and outputs is unchanged.
pub struct GroupChatBuilder {
    agents: Vec<Arc<dyn Agent>>,
    selector: SpeakerSelector,
    max_rounds: usize,
    terminate: Option<Predicate>,
    store: Option<Arc<dyn CheckpointStore>>,
}

impl Default for GroupChatBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for GroupChatBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupChatBuilder")
            .field("agents", &self.agents.iter().map(|a| a.name()).collect::<Vec<_>>())
            .field("selector", &self.selector)
            .field("max_rounds", &self.max_rounds)
            .finish()
    }
}

impl GroupChatBuilder {
    participant_methods!();

    /// No participants, round robin, at most 10 rounds.
    pub fn new() -> Self {
        Self {
            agents: Vec::new(),
            selector: SpeakerSelector::RoundRobin,
            max_rounds: 10,
            terminate: None,
            store: None,
        }
    }

    /// How the next speaker is chosen.
    pub fn selector(mut self, selector: SpeakerSelector) -> Self {
        self.selector = selector;
        self
    }

    /// The most participant turns.
    pub fn max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// Ends the chat when `predicate` holds (checked before each pick).
    pub fn terminate_when(
        mut self,
        predicate: impl Fn(&GroupChatState) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.terminate = Some(Arc::new(predicate));
        self
    }

    /// Builds the workflow: the manager, with an edge to and from every participant.
    pub fn build(self) -> Result<Workflow, BuildError> {
        check_participants(&self.agents)?;
        let participants: Vec<(String, String)> = self
            .agents
            .iter()
            .map(|a| (a.name().to_string(), a.description().unwrap_or("").to_string()))
            .collect();
        let manager = Manager {
            participants: participants.clone(),
            selector: self.selector,
            max_rounds: self.max_rounds,
            terminate: self.terminate,
        };
        super::star("group_chat", manager, self.agents, self.store)
    }
}

struct Manager {
    participants: Vec<(String, String)>,
    selector: SpeakerSelector,
    max_rounds: usize,
    terminate: Option<Predicate>,
}

#[derive(Deserialize)]
struct Decision {
    next_speaker: String,
}

impl Manager {
    async fn ask(
        &self,
        agent: &dyn Agent,
        state: &GroupChatState,
        budget: Option<&weft_core::RunBudget>,
    ) -> Result<Option<String>, BoxError> {
        let roster: Vec<String> = self
            .participants
            .iter()
            .map(|(name, description)| {
                if description.is_empty() { format!("- {name}") } else { format!("- {name}: {description}") }
            })
            .collect();
        let prompt = format!(
            "You manage a group chat. Participants:\n{}\nWho speaks next? Answer {FINISH} when the task is done.",
            roster.join("\n")
        );
        let mut names: Vec<&str> = self.participants.iter().map(|(n, _)| n.as_str()).collect();
        names.push(FINISH);
        let schema = json!({
            "type": "object",
            "properties": {"next_speaker": {"type": "string", "enum": names}},
            "required": ["next_speaker"],
            "additionalProperties": false
        });
        let options = ChatOptions {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "next_speaker".into(),
                schema,
                strict: true,
            }),
            budget: budget.cloned(),
            ..Default::default()
        };
        let mut messages = state.conversation.clone();
        messages.push(Message::user(prompt));
        let response = agent.run_messages(&mut AgentSession::new(), messages, options).await?;
        let decision: Decision = weft_core::agent::parse_structured(agent.name(), &response.text())?;
        Ok((decision.next_speaker != FINISH).then_some(decision.next_speaker))
    }
}

#[async_trait]
impl Executor for Manager {
    type Input = Vec<Message>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        MANAGER_ID
    }

    async fn handle(
        &self,
        conversation: Vec<Message>,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let round: Option<usize> = ctx.get_state(ROUND_KEY)?;
        if round.is_none() {
            ctx.set_state(INPUT_LEN_KEY, &conversation.len())?;
        }
        // A speaker answers with the view it was sent plus its own messages: put those after
        // the conversation the view was made from.
        let conversation = match ctx.get_state::<(Vec<Message>, usize)>(SENT_KEY)? {
            Some((mut kept, view_len)) if round.is_some() => {
                kept.extend(conversation.into_iter().skip(view_len));
                kept
            }
            _ => conversation,
        };
        let state = GroupChatState {
            participants: self.participants.iter().map(|(n, _)| n.clone()).collect(),
            conversation,
            round: round.unwrap_or(0),
            last_speaker: ctx.get_state(LAST_SPEAKER_KEY)?,
        };
        let done = state.round >= self.max_rounds || self.terminate.as_ref().is_some_and(|t| t(&state));
        let next = if done {
            None
        } else {
            match &self.selector {
                SpeakerSelector::RoundRobin => {
                    state.participants.get(state.round % state.participants.len()).cloned()
                }
                SpeakerSelector::Function(pick) => pick(&state),
                SpeakerSelector::Agent(agent) => self.ask(agent.as_ref(), &state, ctx.budget()).await?,
            }
        };
        let Some(next) = next else {
            ctx.yield_output(added_messages(ctx, &state.conversation)?);
            return Ok(());
        };
        if !state.participants.contains(&next) {
            return Err(format!("the manager picked '{next}', who is not a participant").into());
        }
        ctx.set_state(ROUND_KEY, &(state.round + 1))?;
        ctx.set_state(LAST_SPEAKER_KEY, &next)?;
        let view = speaker_view(&next, &self.participants, &state.conversation);
        ctx.set_state(SENT_KEY, &(&state.conversation, view.len()))?;
        ctx.send_message_to(next, view);
        Ok(())
    }
}

/// The conversation as `speaker` is sent it: each message another participant wrote becomes a
/// user message with that participant's name holding only its text (a message with no text, such
/// as a tool call or a tool result, is left out); every other message is kept as it is.
pub(crate) fn speaker_view(
    speaker: &str,
    participants: &[(String, String)],
    conversation: &[Message],
) -> Vec<Message> {
    conversation
        .iter()
        .filter_map(|message| {
            let other = message.author_name.as_deref().is_some_and(|author| {
                author != speaker && participants.iter().any(|(name, _)| name == author)
            });
            if !other || message.role == Role::User {
                return Some(message.clone());
            }
            let contents: Vec<Content> =
                message.contents.iter().filter(|c| matches!(c, Content::Text { .. })).cloned().collect();
            (!contents.is_empty()).then(|| Message {
                role: Role::User,
                author_name: message.author_name.clone(),
                contents,
            })
        })
        .collect()
}
