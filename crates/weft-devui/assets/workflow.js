// Weft DevUI: entities and workflows. GET /v1/entities says what each entity is: an agent's
// description and tools (shown above the chat), or a workflow's description and graph; picking one shows the graph (graph.js) beside the chat, runs it over
// AG-UI, and follows the run: STEP_STARTED/STEP_FINISHED into the event list, the run's state
// (a STATE_SNAPSHOT, then RFC 6902 STATE_DELTA patches) into each executor's state on the
// graph, outputs and checkpoints. A checkpoint's Resume button continues the run from there
// (POST /v1/entities/{name}/checkpoints/{id}/resume), streamed like any AG-UI run.
// app.js calls WeftWorkflow.entitiesLoaded() and WeftWorkflow.onEvent(event) for each AG-UI event.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const entities = new Map(); // name -> its /v1/entities object
  const view = { name: null, svg: null, state: null, runId: null };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function app() {
    return window.WeftDevui;
  }

  // ---- the entities ----------------------------------------------------------------------------

  async function entitiesLoaded() {
    const response = await app().api("/v1/entities");
    if (!response.ok) return;
    const body = await response.json();
    entities.clear();
    for (const entity of body.data || []) entities.set(entity.id, entity);
    for (const option of $("entity").options) {
      const entity = entities.get(option.value);
      if (entity && entity.kind === "workflow") {
        option.textContent = option.value + " (workflow)";
        option.title = entity.description || "";
      }
    }
    show();
  }

  function current() {
    const entity = entities.get($("entity").value);
    return entity && entity.kind === "workflow" ? entity : null;
  }

  // Shows what the selected agent is: its description and the tools it offers its model.
  function showAgent() {
    const entity = entities.get($("entity").value);
    const box = $("agent-info");
    box.hidden = !entity || entity.kind === "workflow";
    if (box.hidden) return;
    const tools = entity.tools || [];
    $("agent-summary").textContent =
      entity.id + ": " + tools.length + (tools.length === 1 ? " tool" : " tools");
    $("agent-description").textContent = entity.description || "No description.";
    $("agent-tools").replaceChildren(
      ...tools.map((tool) => {
        const item = el("li", "agent-tool");
        item.append(el("code", null, tool.name), el("span", "hint", " " + (tool.description || "")));
        item.title = JSON.stringify(tool.parameters || {}, null, 2);
        return item;
      }),
    );
  }

  // Shows the panel of the selected workflow (or hides it for an agent).
  function show() {
    showAgent();
    const entity = current();
    const panel = $("workflow");
    document.body.classList.toggle("has-workflow", Boolean(entity));
    panel.hidden = !entity;
    if (!entity) {
      view.name = null;
      return;
    }
    // A workflow's executor states and human input come over AG-UI.
    if ($("protocol").value !== "agui") {
      $("protocol").value = "agui";
      $("protocol").dispatchEvent(new Event("change"));
    }
    if (view.name === entity.id) return;
    view.name = entity.id;
    view.state = null;
    view.runId = null;
    $("wf-name").textContent = entity.id;
    const executors = ((entity.info && entity.info.nodes) || []).filter((n) => n.kind === "executor").length;
    $("wf-description").textContent = entity.description || "A workflow of " + executors + " executors.";
    view.svg = entity.info && entity.info.nodes ? window.WeftGraph.draw(entity.info) : null;
    $("wf-graph").replaceChildren(...(view.svg ? [view.svg] : [el("p", "hint", "No graph.")]));
    $("wf-events").replaceChildren();
    $("wf-outputs").replaceChildren();
    $("wf-checkpoints").replaceChildren();
  }

  // ---- the run ---------------------------------------------------------------------------------

  function logEvent(text, kind) {
    const li = el("li", "wf-event " + (kind || ""), text);
    const list = $("wf-events");
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  // JSON Pointer (RFC 6901) tokens of a path.
  function tokens(path) {
    return path
      .split("/")
      .slice(1)
      .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  }

  // Applies the JSON Patch operations the host sends (add, replace, remove), in place. By
  // hand: a patch library would be a bundle to vendor for three operations.
  function applyPatch(doc, ops) {
    for (const op of ops) {
      const path = tokens(op.path);
      const last = path.pop();
      let parent = doc;
      for (const t of path) parent = parent == null ? undefined : parent[t];
      if (parent == null || typeof parent !== "object") continue;
      if (Array.isArray(parent)) {
        const index = last === "-" ? parent.length : Number(last);
        if (op.op === "add") parent.splice(index, 0, op.value);
        else if (op.op === "replace") parent[index] = op.value;
        else if (op.op === "remove") parent.splice(index, 1);
      } else if (op.op === "add" || op.op === "replace") {
        parent[last] = op.value;
      } else if (op.op === "remove") {
        delete parent[last];
      }
    }
  }

  function render() {
    const run = view.state && view.state.workflow;
    if (!run) return;
    if (view.svg) window.WeftGraph.setStates(view.svg, run.executors);
    const outputs = $("wf-outputs");
    outputs.replaceChildren();
    for (const output of run.outputs || []) {
      const li = el("li", "wf-output");
      li.appendChild(el("span", "wf-output-from", output.executorId));
      li.appendChild(el("pre", "wf-output-value", outputText(output.value)));
      outputs.appendChild(li);
    }
    renderCheckpoints(run.checkpoints || []);
  }

  // An output as text: messages by their text, anything else as JSON.
  function outputText(value) {
    const messages = Array.isArray(value) ? value : value && value.contents ? [value] : null;
    if (messages && messages.every((m) => m && Array.isArray(m.contents))) {
      return messages
        .map((m) => m.contents.map((c) => c.text || "").join(""))
        .filter(Boolean)
        .join("\n");
    }
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function renderCheckpoints(list) {
    const ol = $("wf-checkpoints");
    ol.replaceChildren();
    for (const checkpoint of list) {
      const li = el("li", "wf-checkpoint");
      li.dataset.id = checkpoint.checkpointId;
      li.dataset.superstep = String(checkpoint.superstep);
      const pending = checkpoint.pendingRequests ? ", waiting for input" : "";
      li.appendChild(el("span", null, "after superstep " + checkpoint.superstep + pending));
      const resume = el("button", "resume", "Resume");
      resume.type = "button";
      resume.setAttribute("aria-label", "Resume from the checkpoint after superstep " + checkpoint.superstep);
      resume.addEventListener("click", () => resumeFrom(checkpoint));
      li.appendChild(resume);
      ol.appendChild(li);
    }
  }

  // Lists the checkpoints of the last run from the server (the live list only has this run's).
  async function loadCheckpoints() {
    const entity = current();
    if (!entity || !entity.checkpoints || !view.runId) return;
    const path =
      "/v1/entities/" + encodeURIComponent(entity.id) + "/checkpoints?run_id=" + encodeURIComponent(view.runId);
    const response = await app().api(path);
    if (!response.ok) return;
    const body = await response.json();
    renderCheckpoints(body.data || []);
  }

  function resumeFrom(checkpoint) {
    const entity = current();
    if (!entity) return;
    logEvent("resuming from the checkpoint after superstep " + checkpoint.superstep, "resume");
    const path =
      "/v1/entities/" +
      encodeURIComponent(entity.id) +
      "/checkpoints/" +
      encodeURIComponent(checkpoint.checkpointId) +
      "/resume";
    app().runFrom(path);
  }

  // One AG-UI event of a run (every run goes through here; only a workflow's matter).
  function onEvent(event) {
    if (!view.name || !current()) return;
    switch (event.type) {
      case "RUN_STARTED":
        logEvent("run started", "run");
        break;
      case "STATE_SNAPSHOT":
        if (event.snapshot && event.snapshot.workflow) {
          view.state = JSON.parse(JSON.stringify(event.snapshot));
          view.runId = view.state.workflow.runId;
          const from = view.state.workflow.resumedFrom;
          logEvent("workflow run " + view.runId + (from ? " resumed" : " started"), "run");
          render();
        }
        break;
      case "STATE_DELTA":
        if (view.state && Array.isArray(event.delta)) {
          applyPatch(view.state, event.delta);
          for (const op of event.delta) {
            if (op.path === "/workflow/superstep") logEvent("superstep " + op.value, "superstep");
          }
          render();
        }
        break;
      case "STEP_STARTED":
        logEvent(event.stepName + " started", "step-started");
        break;
      case "STEP_FINISHED": {
        const states = view.state && view.state.workflow && view.state.workflow.executors;
        const now = states && states[event.stepName];
        if (now === "waiting") logEvent(event.stepName + " waits for input", "step-finished");
        else if (now === "failed") logEvent(event.stepName + " failed", "failed");
        else logEvent(event.stepName + " finished", "step-finished");
        break;
      }
      case "RUN_FINISHED": {
        const interrupted = event.outcome && event.outcome.type === "interrupt";
        logEvent(interrupted ? "paused: waiting for input" : "run finished", "run");
        loadCheckpoints();
        break;
      }
      case "RUN_ERROR":
        logEvent("run failed: " + (event.message || ""), "failed");
        loadCheckpoints();
        break;
    }
  }

  // A form for a workflow's request for input, in `container`; `answer(value)` resumes the run.
  function askInput(interrupt, container, answer) {
    // The request's arguments (its data, the schema) are for programs: the form says it all.
    container.classList.add("input-call");
    const box = el("div", "input-request");
    const { form, focus } = window.WeftForms.build(interrupt.responseSchema || {}, interrupt.message, (value) => {
      box.replaceChildren(el("span", "answered", "Answered"));
      answer(value);
    });
    box.appendChild(form);
    container.appendChild(box);
    focus();
  }

  function start() {
    $("entity").addEventListener("change", show);
  }

  window.WeftWorkflow = { entitiesLoaded, onEvent, askInput };
  start();
})();
