//! Weft on [Restate](https://restate.dev): durable agents and durable workflows.
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
//! - A weft-workflow [`Workflow`](weft_workflow::Workflow) runs as the Restate workflow
//!   [`WORKFLOW_NAME`] ([`WorkflowService`], see [Workflows](#workflows) below).
//! - [`agent_endpoint`], [`workflow_endpoint`], [`bind`] and [`serve`] serve them over HTTP/2
//!   for Restate to call; [`register`] registers the worker through Restate's admin API.
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
//! # Workflows
//!
//! [`WorkflowService`] runs the same `Workflow` value a local run takes (only the runner
//! differs: [`Workflow::run_journaled`](weft_workflow::Workflow::run_journaled) with a journal
//! over the Restate context, see [`weft_workflow::journal`]). Its handlers, for a workflow key
//! that is the run's id:
//!
//! - `run` (once per key; JSON of the start executor's input): drives the run to its end and
//!   returns its outputs ([`WorkflowReply`]: JSON under their stable names). Every executor
//!   invocation (one executor's deliveries in one superstep) is a journaled step named
//!   `superstep#N:EXECUTOR`, whose result is the invocation's effects: the messages it sent,
//!   its state writes, requests, outputs and the executor's snapshot. After every superstep the
//!   run's state (messages in flight, fan-in buffers, shared state, executor snapshots, pending
//!   requests, as a checkpoint) is written to the workflow's Restate state.
//! - Human input is a durable promise: when no messages remain and requests are pending, `run`
//!   waits on one promise per request. `respond` ([`RequestAnswer`]) resolves it, from any
//!   process, at any later time, after restarts of the worker and of Restate; the answers go
//!   to the asking executors in the next superstep, in the order the requests were made. A
//!   durable run waits for every pending request before it goes on.
//! - `status` ([`WorkflowStatus`]): the phase (running, waiting, completed, failed), the last
//!   superstep, the pending requests (with their ids and answer schemas) and the state.
//!
//! A workflow key starts one run: Restate refuses another `run` for the key (HTTP 409, also
//! while the first runs) and an `idempotency-key` header on it (the key is the idempotency
//! key); `GET /restate/workflow/WeftWorkflow/KEY/attach` waits for the run's reply, which is
//! kept for Restate's workflow retention (24 h by default).
//!
//! The contract, as for agents:
//!
//! - **Exactly once: journaled invocations.** An invocation whose effects are journaled is not
//!   run again by any replay; its effects are applied from the journal.
//! - **At least once: the work inside an invocation.** An invocation interrupted before its
//!   effects are journaled (the worker died, the connection broke) runs again, whole, with the
//!   same key: [`current_step`] gives it (`INVOCATION_ID/superstep#N:EXECUTOR`, the same on
//!   every attempt), for the executor to make its side effects idempotent. Model and tool calls
//!   inside an executor are part of its invocation (not steps of their own).
//! - **Retries.** An executor's error is retried under [`StepRetry`]; when the attempts run
//!   out, the run fails with [`DurableError::StepFailed`] (the `run` call ends with a terminal
//!   error naming the executor, the superstep and the cause).
//! - **Determinism.** The invocations of a superstep run one at a time, in the order the
//!   executors were added (restate-sdk wants `ctx.run` steps awaited one by one; locally they
//!   run concurrently). Run ids are the workflow key, request ids are part of the journaled
//!   effects. Executor state lives in the journaled snapshots: an executor that keeps state
//!   must implement `snapshot`/`restore` (one executor value serves all runs of a worker, as
//!   locally). Message types should be registered under stable names
//!   (`WorkflowBuilder::message`) so that journals stay readable by a newer build.
//! - **Events.** Outputs, custom events and requests are reported when their invocation
//!   completes; agent updates and sub-workflow events are not journaled.
//!
//! # Cost
//!
//! `bench/w9.sh` (BENCHMARKS.md, "W9") runs W5's workflows on one restate-server 1.7.12 on
//! loopback, release build, on a 2-core machine: a durable step costs about 2-3 ms of latency
//! and about 2 ms of restate-server's CPU (its journal and state writes; the worker's own part is
//! 0.2-0.3 ms), against microseconds on the local runner. The worker's connections set
//! `TCP_NODELAY`: without it (restate-sdk's own server) every superstep waited about 40 ms.
//!
//! # Limits
//!
//! - A turn's input is text ([`TurnRequest`]) and its answer comes whole ([`TurnReply`]): no
//!   streaming to the caller, and no approval answers yet.
//! - A tool that runs an agent (an agent as a tool) is one step: the inner agent's calls are
//!   not journaled one by one, and the whole tool call runs again if it is interrupted.
//! - One workflow per worker deployment is served as [`WORKFLOW_NAME`].
//! - A durable workflow run waits for all its pending requests before it goes on.
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
pub mod demo_workflow;
mod error;
mod ingress_agent;
mod middleware;
mod object;
mod serve;
mod steps;
mod workflow_journal;
mod workflow_service;

pub use decorators::{DurableChatClient, DurableTool};
pub use error::{DurableError, IngressError, RegisterError, ServeError};
pub use ingress_agent::{DEFAULT_TURN_TIMEOUT, IngressAgent};
pub use middleware::{DurableCalls, durable_calls};
pub use object::{AgentObject, MAX_MESSAGE_BYTES, OBJECT_NAME, TurnReply, TurnRequest};
pub use serve::{
    agent_endpoint, agent_endpoint_with_identity, bind, register, serve, worker_endpoint, workflow_endpoint,
};
pub use steps::{StepKey, StepRetry, current_step, in_durable_run};
pub use workflow_service::{
    MAX_INPUT_BYTES, OutputRecord, RequestAnswer, RunPhase, WORKFLOW_NAME, WorkflowReply, WorkflowService,
    WorkflowStatus,
};
