// Drives the AG-UI endpoint of a Weft host with AG-UI's official client (@ag-ui/client's
// HttpAgent, which verifies the order of the events it reads and fails the run otherwise).
//
//   node client.cjs PLAN_JSON
//
// PLAN_JSON: {"url": ".../ag-ui/helper", "token": optional, "threadId": "...", "runs": [RUN...]}
// where each RUN is run in turn on the same agent (so the thread's messages carry over, as in a
// UI) and may have:
//   "user": text           a user message added before the run;
//   "tools": [...]         the client's tools for the run;
//   "state": {...}         the agent's state before the run;
//   "toolResult": text     a tool message answering every call the previous run left pending;
//   "approve": true|false  answers every open interrupt of the previous run (via `resume`);
//   "answer": value        answers every open interrupt with `value` as the payload (human input).
// Prints one JSON line per event ({"run": i, "event": {...}}), then after each run
// {"run": i, "finished": {...}} with the outcome and the agent's messages. A failed run prints
// {"run": i, "error": "..."} and exits 1.
"use strict";
const path = require("node:path");
const { createRequire } = require("node:module");

const clientDir = process.env.WEFT_AGUI_CLIENT_DIR;
if (!clientDir) {
  console.error("WEFT_AGUI_CLIENT_DIR is not set: source scripts/peers/agui.sh");
  process.exit(2);
}
const { HttpAgent, buildResumeArray } = createRequire(path.join(clientDir, "package.json"))("@ag-ui/client");

const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

async function main() {
  const plan = JSON.parse(process.argv[2]);
  const headers = plan.token ? { Authorization: `Bearer ${plan.token}` } : {};
  const agent = new HttpAgent({ url: plan.url, headers, threadId: plan.threadId });
  let pendingToolCallIds = [];
  for (const [index, run] of plan.runs.entries()) {
    if (run.state !== undefined) agent.setState(run.state);
    if (run.toolResult !== undefined) {
      for (const toolCallId of pendingToolCallIds) {
        agent.addMessage({ id: `result-${toolCallId}`, role: "tool", toolCallId, content: run.toolResult });
      }
    }
    if (run.user !== undefined) {
      agent.addMessage({ id: `user-${index}`, role: "user", content: run.user });
    }
    const parameters = { tools: run.tools ?? [] };
    if (run.approve !== undefined || run.answer !== undefined) {
      const responses = {};
      const payload = run.answer !== undefined ? run.answer : { approved: run.approve };
      for (const interrupt of agent.pendingInterrupts) {
        responses[interrupt.id] = { status: "resolved", payload };
      }
      parameters.resume = buildResumeArray(agent.pendingInterrupts, responses);
    }
    let finished = null;
    try {
      await agent.runAgent(parameters, {
        onEvent: ({ event }) => print({ run: index, event }),
        onRunFinishedEvent: (params) => {
          finished = { outcome: params.outcome, pendingToolCallIds: params.pendingToolCallIds ?? [],
                       interrupts: params.interrupts ?? [] };
        },
      });
    } catch (error) {
      print({ run: index, error: String(error && error.message ? error.message : error) });
      process.exit(1);
    }
    pendingToolCallIds = finished ? finished.pendingToolCallIds : [];
    print({ run: index, finished: { ...finished, messages: agent.messages, state: agent.state } });
  }
}

main().catch((error) => {
  print({ error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
});
