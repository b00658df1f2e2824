// Weft DevUI: chat with the agents this server hosts, over its own protocols (same origin):
// GET /v1/models lists them, POST /v1/responses (SSE) runs a turn in a conversation of
// /v1/conversations, and POST /ag-ui/{agent} runs turns that need approvals (interrupts).
// Everything the model or a tool says is untrusted: it reaches the page through textContent
// (the markdown renderer builds nodes), never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "weft-devui-token";
  const THEME_KEY = "weft-devui-theme";
  const CONVERSATIONS_KEY = "weft-devui-conversations";

  const state = {
    conversation: null, // the id of the open conversation, or null before the first turn
    controller: null, // the AbortController of the run going on
    tools: new Map(), // call_id -> the <details> of a tool call in the open transcript
    // An AG-UI chat: its thread and the messages so far (AG-UI clients send them whole).
    agui: { threadId: null, messages: [], interrupts: [], answers: [] },
  };

  function protocol() {
    return $("protocol").value;
  }

  // ---- small DOM helpers -------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setStatus(text) {
    $("status").textContent = text || "";
  }

  function scrollDown() {
    const log = $("messages");
    log.scrollTop = log.scrollHeight;
  }

  // ---- the token -----------------------------------------------------------------------------

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  // Asks for the token in a modal dialog; resolves once it is saved.
  function askToken() {
    return new Promise((resolve) => {
      const dialog = $("token-dialog");
      const input = $("token-input");
      input.value = "";
      dialog.addEventListener(
        "close",
        () => {
          if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
          resolve();
        },
        { once: true },
      );
      dialog.showModal();
      input.focus();
    });
  }

  // fetch with the bearer token; a 401 asks for the token once and retries.
  async function api(path, options = {}, retried = false) {
    const headers = new Headers(options.headers || {});
    const saved = token();
    if (saved) headers.set("Authorization", "Bearer " + saved);
    if (options.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401 && !retried) {
      $("token-button").hidden = false;
      await askToken();
      return api(path, options, true);
    }
    return response;
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return (body.error && body.error.message) || response.statusText;
    } catch (_) {
      return response.status + " " + response.statusText;
    }
  }

  // ---- theme ---------------------------------------------------------------------------------

  function applyTheme(theme) {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
  }

  function toggleTheme() {
    const current =
      document.documentElement.dataset.theme ||
      (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
    const next = current === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  }

  // ---- entities ------------------------------------------------------------------------------

  async function loadEntities() {
    const response = await api("/v1/models");
    if (!response.ok) {
      setStatus("Could not list the agents: " + (await errorText(response)));
      return;
    }
    const body = await response.json();
    const select = $("entity");
    select.replaceChildren();
    for (const model of body.data || []) {
      const option = el("option", null, model.id);
      option.value = model.id;
      select.appendChild(option);
    }
    if (!select.options.length) setStatus("This server serves no agent.");
  }

  // ---- conversations (ids kept by this browser: the server has no list endpoint) -------------

  function savedConversations() {
    try {
      const list = JSON.parse(localStorage.getItem(CONVERSATIONS_KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (_) {
      return [];
    }
  }

  function saveConversations(list) {
    localStorage.setItem(CONVERSATIONS_KEY, JSON.stringify(list));
  }

  function renderConversations() {
    const list = $("conversations");
    list.replaceChildren();
    for (const saved of savedConversations()) {
      const li = el("li", saved.id === state.conversation ? "conversation current" : "conversation");
      li.dataset.id = saved.id;
      const open = el("button", "open", saved.title || saved.id);
      open.type = "button";
      open.title = saved.agent + " · " + saved.id;
      open.addEventListener("click", () => resumeConversation(saved.id));
      const remove = el("button", "delete", "Delete");
      remove.type = "button";
      remove.setAttribute("aria-label", "Delete conversation " + (saved.title || saved.id));
      remove.addEventListener("click", () => deleteConversation(saved.id));
      li.append(open, remove);
      list.appendChild(li);
    }
  }

  async function createConversation(agent, title) {
    const response = await api("/v1/conversations", {
      method: "POST",
      body: JSON.stringify({ metadata: { agent, title: title.slice(0, 200) } }),
    });
    if (!response.ok) throw new Error(await errorText(response));
    const body = await response.json();
    const list = savedConversations();
    list.unshift({ id: body.id, agent, title: title.slice(0, 60), created: Date.now() });
    saveConversations(list);
    return body.id;
  }

  function newChat() {
    if (state.controller) return;
    state.conversation = null;
    state.agui = { threadId: null, messages: [], interrupts: [], answers: [] };
    state.tools.clear();
    $("messages").replaceChildren();
    setStatus("");
    renderConversations();
    $("prompt").focus();
  }

  async function resumeConversation(id) {
    if (state.controller) return;
    const response = await api("/v1/conversations/" + encodeURIComponent(id) + "/items?order=asc&limit=100");
    if (!response.ok) {
      setStatus("Could not open the conversation: " + (await errorText(response)));
      if (response.status === 404) forget(id);
      return;
    }
    const body = await response.json();
    state.conversation = id;
    state.tools.clear();
    $("messages").replaceChildren();
    const saved = savedConversations().find((c) => c.id === id);
    if (saved && [...$("entity").options].some((o) => o.value === saved.agent)) $("entity").value = saved.agent;
    for (const item of body.data || []) showItem(item);
    renderConversations();
    setStatus("Resumed " + id);
    $("prompt").focus();
  }

  function forget(id) {
    saveConversations(savedConversations().filter((c) => c.id !== id));
    if (state.conversation === id) newChat();
    renderConversations();
  }

  async function deleteConversation(id) {
    if (state.controller) return;
    const response = await api("/v1/conversations/" + encodeURIComponent(id), { method: "DELETE" });
    if (!response.ok && response.status !== 404) {
      setStatus("Could not delete the conversation: " + (await errorText(response)));
      return;
    }
    forget(id);
    setStatus("Deleted " + id);
  }

  // ---- the transcript ------------------------------------------------------------------------

  function addMessage(role, text) {
    const li = el("li", "message " + role);
    li.appendChild(el("div", "role", role === "user" ? "You" : "Agent"));
    const body = el("div", "body");
    if (text !== undefined) body.appendChild(window.WeftMarkdown.render(text));
    li.appendChild(body);
    $("messages").appendChild(li);
    scrollDown();
    return body;
  }

  // A tool call, collapsed: its name, expandable to its arguments and result.
  function addToolCall(callId, name, args) {
    const details = el("details", "tool");
    details.dataset.callId = callId;
    const summary = el("summary");
    summary.append(el("span", "tool-label", "Tool call "), el("code", "tool-name", name));
    summary.appendChild(el("span", "tool-state", " running…"));
    details.appendChild(summary);
    details.appendChild(el("div", "tool-heading", "Arguments"));
    details.appendChild(el("pre", "tool-args", prettyJson(args)));
    const li = el("li", "message tool-item");
    li.appendChild(details);
    $("messages").appendChild(li);
    state.tools.set(callId, details);
    scrollDown();
    return details;
  }

  function addToolResult(callId, output) {
    let details = state.tools.get(callId);
    if (!details) details = addToolCall(callId, "(tool)", "");
    const toolState = details.querySelector(".tool-state");
    if (toolState.textContent !== " rejected") toolState.textContent = " done";
    details.appendChild(el("div", "tool-heading", "Result"));
    details.appendChild(el("pre", "tool-result", typeof output === "string" ? output : JSON.stringify(output)));
    scrollDown();
  }

  function prettyJson(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (_) {
      return String(text);
    }
  }

  function textOf(content) {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    return content.map((part) => part.text || part.refusal || "").join("");
  }

  // One stored item of a conversation.
  function showItem(item) {
    if (item.type === "message") {
      addMessage(item.role === "user" ? "user" : "assistant", textOf(item.content));
    } else if (item.type === "function_call") {
      addToolCall(item.call_id, item.name, item.arguments);
    } else if (item.type === "function_call_output") {
      addToolResult(item.call_id, item.output);
    }
  }

  // ---- running a turn ------------------------------------------------------------------------

  function setRunning(running) {
    $("send").disabled = running;
    $("stop").disabled = !running;
    $("entity").disabled = running;
    $("protocol").disabled = running;
    document.body.classList.toggle("running", running);
  }

  // Reads an SSE body, calling onEvent with each `data:` JSON value.
  async function readSse(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        const data = block
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data && data !== "[DONE]") onEvent(JSON.parse(data));
      }
    }
  }

  async function send(event) {
    if (event) event.preventDefault();
    const prompt = $("prompt").value.trim();
    const agent = $("entity").value;
    if (!prompt || !agent || state.controller) return;
    if (protocol() === "agui" && state.agui.interrupts.length) {
      setStatus("Approve or reject the tool call first.");
      focusNext();
      return;
    }
    $("prompt").value = "";
    addMessage("user", prompt);
    const controller = new AbortController();
    state.controller = controller;
    setRunning(true);
    setStatus("Running…");
    try {
      if (protocol() === "agui") {
        state.agui.messages.push({ id: newId("user"), role: "user", content: prompt });
        await runAgui(agent, [], controller);
      } else {
        if (!state.conversation) {
          state.conversation = await createConversation(agent, prompt);
          renderConversations();
        }
        await runResponses(agent, prompt, controller);
      }
    } catch (error) {
      if (error.name === "AbortError") setStatus("Stopped.");
      else setStatus("Error: " + error.message);
    } finally {
      state.controller = null;
      setRunning(false);
      focusNext();
    }
  }

  // One turn over the Responses protocol, streamed.
  async function runResponses(agent, prompt, controller) {
    const response = await api("/v1/responses", {
      method: "POST",
      body: JSON.stringify({ model: agent, input: prompt, conversation: state.conversation, stream: true }),
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(await errorText(response));
    const traceId = response.headers.get("x-weft-trace-id"); // traces.js links the answer to it
    let body = null; // the assistant message being written
    let text = "";
    await readSse(response, (event) => {
      switch (event.type) {
        case "response.output_text.delta":
          if (!body) {
            body = addMessage("assistant");
            text = "";
          }
          text += event.delta;
          body.replaceChildren(window.WeftMarkdown.render(text));
          scrollDown();
          break;
        case "response.output_item.done":
          if (event.item.type === "message") body = null;
          else if (event.item.type === "function_call")
            addToolCall(event.item.call_id, event.item.name, event.item.arguments);
          break;
        case "response.output_item.added":
          if (event.item.type === "function_call_output") addToolResult(event.item.call_id, event.item.output);
          break;
        case "response.completed": {
          // A call with no result held for approval: the Responses protocol cannot answer it.
          const output = (event.response && event.response.output) || [];
          const answered = new Set(output.filter((i) => i.type === "function_call_output").map((i) => i.call_id));
          const waiting = output.filter((i) => i.type === "function_call" && !answered.has(i.call_id));
          waiting.forEach((call) => {
            const details = state.tools.get(call.call_id);
            if (details) details.querySelector(".tool-state").textContent = " waiting for approval";
          });
          setStatus(
            waiting.length
              ? "A tool call waits for approval, which only AG-UI can answer: choose the AG-UI protocol and ask again."
              : "Done.",
          );
          break;
        }
        case "response.incomplete":
          setStatus("Incomplete: " + ((event.response.incomplete_details || {}).reason || "cut short"));
          break;
        case "response.failed":
          setStatus("Failed: " + (((event.response || {}).error || {}).message || "the run failed"));
          break;
        case "error":
          setStatus("Error: " + (event.message || "the run failed"));
          break;
      }
    });
    if (window.WeftTraces) window.WeftTraces.attach($("messages").lastElementChild, traceId);
  }

  // After a run: the first open approval's Approve button, else the prompt.
  function focusNext() {
    const approve = $("messages").querySelector(".approval .approve, .input-request :is(input, textarea, select)");
    (approve || $("prompt")).focus();
  }

  function newId(prefix) {
    return prefix + "-" + crypto.randomUUID();
  }

  // One AG-UI run: a new turn, or (with `resume`) the answers to the open interrupts; `path`
  // streams another endpoint's AG-UI run instead (a workflow resumed from a checkpoint).
  async function runAgui(agent, resume, controller, path) {
    const chat = state.agui;
    if (!chat.threadId) chat.threadId = newId("thread");
    const input = {
      threadId: chat.threadId,
      runId: newId("run"),
      state: {},
      tools: [],
      context: [],
      forwardedProps: {},
      messages: chat.messages,
    };
    if (resume.length) input.resume = resume;
    const response = await api(path || "/ag-ui/" + encodeURIComponent(agent), {
      method: "POST",
      body: JSON.stringify(input),
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(await errorText(response));
    const traceId = response.headers.get("x-weft-trace-id");
    let body = null;
    let message = null; // the assistant message being written, as kept in chat.messages
    const callArgs = new Map();
    const assistantFor = (id) => {
      let found = chat.messages.find((m) => m.id === id && m.role === "assistant");
      if (!found) {
        found = { id, role: "assistant", content: "" };
        chat.messages.push(found);
      }
      return found;
    };
    await readSse(response, (event) => {
      if (window.WeftWorkflow) window.WeftWorkflow.onEvent(event);
      switch (event.type) {
        case "TEXT_MESSAGE_START":
          body = addMessage("assistant");
          message = assistantFor(event.messageId);
          break;
        case "TEXT_MESSAGE_CONTENT":
          if (!body) {
            body = addMessage("assistant");
            message = assistantFor(event.messageId);
          }
          message.content += event.delta;
          body.replaceChildren(window.WeftMarkdown.render(message.content));
          scrollDown();
          break;
        case "TEXT_MESSAGE_END":
          body = null;
          break;
        case "TOOL_CALL_START": {
          addToolCall(event.toolCallId, event.toolCallName, "");
          const parent = assistantFor(event.parentMessageId || newId("msg"));
          parent.toolCalls = parent.toolCalls || [];
          parent.toolCalls.push({ id: event.toolCallId, type: "function", function: { name: event.toolCallName, arguments: "" } });
          callArgs.set(event.toolCallId, parent.toolCalls[parent.toolCalls.length - 1].function);
          break;
        }
        case "TOOL_CALL_ARGS": {
          const fn = callArgs.get(event.toolCallId);
          if (fn) fn.arguments += event.delta;
          const details = state.tools.get(event.toolCallId);
          if (details && fn) details.querySelector(".tool-args").textContent = prettyJson(fn.arguments);
          break;
        }
        case "TOOL_CALL_RESULT":
          addToolResult(event.toolCallId, event.content);
          chat.messages.push({ id: event.messageId || newId("tool"), role: "tool", toolCallId: event.toolCallId, content: event.content });
          break;
        case "RUN_FINISHED":
          if (event.outcome && event.outcome.type === "interrupt") {
            chat.interrupts = event.outcome.interrupts || [];
            chat.answers = [];
            chat.interrupts.forEach(askApproval);
            setStatus(chat.interrupts.some((i) => i.reason === "human_input") ? "Waiting for input." : "Waiting for approval.");
          } else {
            setStatus("Done.");
          }
          break;
        case "RUN_ERROR":
          setStatus("Error: " + (event.message || "the run failed"));
          break;
      }
    });
    if (window.WeftTraces) window.WeftTraces.attach($("messages").lastElementChild, traceId);
  }

  // Approve and Reject buttons for an interrupt, in its tool call.
  function askApproval(interrupt) {
    let details = state.tools.get(interrupt.toolCallId);
    if (!details) details = addToolCall(interrupt.toolCallId || interrupt.id, "(tool)", "");
    details.open = true;
    if (interrupt.reason === "human_input" && window.WeftWorkflow) {
      details.querySelector(".tool-state").textContent = " waiting for input";
      return window.WeftWorkflow.askInput(interrupt, details, (value) => answerInterrupt(interrupt.id, value));
    }
    details.querySelector(".tool-state").textContent = " waiting for approval";
    const box = el("div", "approval");
    box.appendChild(el("span", null, interrupt.message || "Approve this call?"));
    const approve = el("button", "approve", "Approve");
    const reject = el("button", "reject", "Reject");
    approve.type = reject.type = "button";
    const answer = (approved) => {
      box.replaceChildren(el("span", "answered", approved ? "Approved" : "Rejected"));
      details.querySelector(".tool-state").textContent = approved ? " approved" : " rejected";
      answerInterrupt(interrupt.id, { approved });
    };
    approve.addEventListener("click", () => answer(true));
    reject.addEventListener("click", () => answer(false));
    box.append(approve, reject);
    details.appendChild(box);
    approve.focus();
  }

  // Once every open interrupt is answered, resumes the run with the answers.
  function answerInterrupt(id, payload) {
    const chat = state.agui;
    chat.answers.push({ interruptId: id, status: "resolved", payload });
    if (chat.answers.length < chat.interrupts.length || state.controller) return;
    const resume = chat.answers;
    chat.interrupts = [];
    chat.answers = [];
    return runFrom(null, resume);
  }

  // Runs an AG-UI stream: the answers `resume`, or the run `path` streams.
  async function runFrom(path, resume = []) {
    if (state.controller) return;
    const controller = new AbortController();
    state.controller = controller;
    setRunning(true);
    setStatus("Running…");
    try {
      await runAgui($("entity").value, resume, controller, path);
    } catch (error) {
      if (error.name === "AbortError") setStatus("Stopped.");
      else setStatus("Error: " + error.message);
    } finally {
      state.controller = null;
      setRunning(false);
      focusNext();
    }
  }

  function stop() {
    if (state.controller) state.controller.abort();
  }

  // ---- start -----------------------------------------------------------------------------------

  function start() {
    applyTheme(localStorage.getItem(THEME_KEY));
    $("theme").addEventListener("click", toggleTheme);
    $("token-button").addEventListener("click", () => askToken().then(loadEntities));
    $("composer").addEventListener("submit", send);
    $("prompt").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) send(event);
    });
    $("stop").addEventListener("click", stop);
    $("new-chat").addEventListener("click", newChat);
    $("protocol").addEventListener("change", newChat);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.controller) stop();
    });
    renderConversations();
    loadEntities().then(() => {
      if (window.WeftWorkflow) window.WeftWorkflow.entitiesLoaded();
      $("prompt").focus();
    });
    window.WeftDevui = { api, runFrom };
  }

  start();
})();
