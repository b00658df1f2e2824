//! Weft on [Restate](https://restate.dev): durable agents.
//!
//! An agent run executes as a Restate handler in which each model call and each tool call is a
//! journaled step. When the worker process dies mid-run, Restate invokes the handler again (on
//! the restarted worker, or another one), the run replays: completed model and tool calls are
//! read from the journal instead of being made again, and the run goes on from the first step
//! that had no journaled result.
//!
//! - [`DurableChatClient`] and [`DurableTool`] wrap an agent's client and tools. Inside a
//!   durable run their calls go through the invocation's journaled `run`; outside one they are
//!   the wrapped client and tool, so the same [`ChatAgent`](weft_core::agent::ChatAgent) runs
//!   locally too, with the same answers. [`DurableCalls`] does the same as middleware, for
//!   every model call and tool invocation of any agent (tool sets and declarative agents
//!   included): [`durable_calls`] adds it to a builder.
//! - A conversation is the virtual object [`OBJECT_NAME`] keyed by its conversation id, its
//!   [`AgentSession`](weft_core::agent::AgentSession) in the object's state. Restate runs one
//!   `send` per key at a time: messages sent to one conversation at once are taken in turn, and
//!   none is lost.
//! - [`agent_endpoint`], [`bind`] and [`serve`] serve the object over HTTP/2 for Restate to
//!   call; [`register`] registers the worker through Restate's admin API.
//!
//! # What is exactly-once, and what is at-least-once
//!
//! - **Exactly once: journaled results.** Once a step's result (a model response, a tool's
//!   output or its non-transient error) is in the journal, no replay makes that call again: the
//!   run reads the result. The conversation's state is written once per message, when its run
//!   completes.
//! - **At least once: the work inside a step.** A step whose process dies (or whose
//!   connection to Restate breaks) before its result is journaled runs again on replay. A tool
//!   with side effects (a payment, an email, a row) may therefore see the same call twice.
//!   Make such side effects idempotent with [`current_step`]: inside a step it gives the
//!   [`StepKey`] (the invocation id and the step's name, `tool:NAME#N:CALL_ID`), the same on
//!   every attempt and replay of that step; pass [`StepKey::idempotency_key`] to the service
//!   that performs the effect, or record it next to the effect and skip keys already done.
//! - **Retries.** A model error the provider calls retryable, and a tool failure of kind
//!   `Timeout` or `Unavailable`, are retried under [`StepRetry`]; when its attempts run out,
//!   the step and the run fail with [`DurableError::StepFailed`], which ends the invocation with
//!   a terminal error the caller reads. Other tool failures are journaled and shown to the
//!   model, as in a local run.
//! - **Determinism.** Replay relies on the run asking for the same steps in the same order.
//!   Everything between steps must be deterministic given the journaled results (the agent loop
//!   is). Calls made through undecorated clients or tools, and a history store, are not
//!   journaled: give durable agents no history store (their history is the object's state).
//!
//! # Cost
//!
//! Measured on the test machine (2 shared cores, debug build, one restate-server 1.7.12 on
//! loopback, sequential requests): a turn with one model call took 78 ms end to end through
//! the ingress, a turn with two model calls and two tool calls 141 ms, so about 21 ms per
//! journaled step; the same turns run locally in under a millisecond.
//!
//! # Limits
//!
//! - A turn's input is text ([`TurnRequest`]) and its answer comes whole ([`TurnReply`]): no
//!   streaming to the caller, and no approval answers yet.
//! - A tool that runs an agent (an agent as a tool) is one step: the inner agent's calls are
//!   not journaled one by one, and the whole tool call runs again if it is interrupted.
//! - Workflows (`weft-workflow`) do not run on Restate yet.
//!
//! # Running it
//!
//! 1. Start Restate (`scripts/peers/restate.sh` installs the pinned server from npm):
//!    `RESTATE_INGRESS__BIND_ADDRESS=127.0.0.1:8080 RESTATE_ADMIN__BIND_ADDRESS=127.0.0.1:9070
//!    restate-server --base-dir /var/lib/restate --node-name n1 --bind-ip 127.0.0.1`.
//! 2. Start a worker serving your agent, e.g. the demo worker of this crate:
//!    `WEFT_RESTATE_ADDR=127.0.0.1:9080 cargo run -p weft-restate --bin weft-restate-demo-worker`,
//!    or in your program: `serve(agent_endpoint(agent, StepRetry::default()), bind(addr).await?,
//!    cancel).await`.
//! 3. Register it once: `register("http://127.0.0.1:9070", "http://127.0.0.1:9080").await?` (or
//!    `curl -X POST http://127.0.0.1:9070/deployments -H 'content-type: application/json' -d
//!    '{"uri":"http://127.0.0.1:9080"}'`).
//! 4. Send messages through the ingress: `curl http://127.0.0.1:8080/WeftAgent/conv-1/send -H
//!    'content-type: application/json' -d '{"message":"hello"}'`; read a conversation with
//!    `.../WeftAgent/conv-1/messages`. An `idempotency-key` header makes a retried request
//!    attach to the first run instead of starting another.
//!
//! Kill the worker (`kill -9`) mid-run and start it again: the request completes, and the
//! calls that had completed are not made again.

mod decorators;
pub mod demo;
mod error;
mod middleware;
mod object;
mod serve;
mod steps;

pub use decorators::{DurableChatClient, DurableTool};
pub use error::{DurableError, RegisterError, ServeError};
pub use middleware::{DurableCalls, durable_calls};
pub use object::{AgentObject, MAX_MESSAGE_BYTES, OBJECT_NAME, TurnReply, TurnRequest};
pub use serve::{agent_endpoint, agent_endpoint_with_identity, bind, register, serve};
pub use steps::{StepKey, StepRetry, current_step, in_durable_run};
