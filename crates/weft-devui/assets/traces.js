// Weft DevUI: the trace view. GET /v1/traces lists the recent runs this server kept in memory,
// GET /v1/traces/{id} answers one with its spans; each span is drawn as a row of a waterfall
// (indented under its parent, a bar for when it ran) with its duration, tokens, model, finish
// reason and tool. Span names and attributes are untrusted (tool names, MCP servers): they
// reach the page through textContent only.
"use strict";

(function () {
  const TOKEN_KEY = "weft-devui-token";
  const REFRESHES = 20; // how many times a running trace is fetched again (every 500 ms)

  const view = { dialog: null, list: null, detail: null, current: null, timer: null };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function get(path) {
    const headers = new Headers();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.set("Authorization", "Bearer " + token);
    const response = await fetch(path, { headers });
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        message = (body.error && body.error.message) || message;
      } catch (_) {
        // not JSON: the status says it
      }
      throw new Error(message);
    }
    return response.json();
  }

  function ms(value) {
    if (value === null || value === undefined) return "running";
    if (value >= 1000) return (value / 1000).toFixed(2) + " s";
    if (value >= 10) return value.toFixed(0) + " ms";
    return value.toFixed(2) + " ms";
  }

  function tokens(usage) {
    if (!usage) return "";
    return usage.input_tokens + " in / " + usage.output_tokens + " out tokens";
  }

  // ---- the dialog --------------------------------------------------------------------------

  function build() {
    const dialog = el("dialog", "traces");
    dialog.id = "trace-dialog";
    dialog.setAttribute("aria-labelledby", "trace-title");
    const head = el("div", "traces-head");
    const title = el("h2", null, "Traces");
    title.id = "trace-title";
    const refresh = el("button", null, "Refresh");
    refresh.type = "button";
    refresh.id = "traces-refresh";
    refresh.addEventListener("click", () => loadList(view.current));
    const close = el("button", null, "Close");
    close.type = "button";
    close.id = "traces-close";
    close.addEventListener("click", () => dialog.close());
    head.append(title, el("span", "spacer"), refresh, close);
    const body = el("div", "traces-body");
    const runs = el("nav", "trace-runs");
    runs.setAttribute("aria-label", "Recent runs");
    view.list = el("ul", "trace-list");
    view.list.id = "trace-list";
    runs.append(el("h3", null, "Recent runs"), view.list);
    view.detail = el("section", "trace-detail");
    view.detail.id = "trace-detail";
    view.detail.setAttribute("aria-live", "polite");
    body.append(runs, view.detail);
    dialog.append(head, body);
    dialog.addEventListener("close", () => {
      clearTimeout(view.timer);
      view.current = null;
    });
    document.body.appendChild(dialog);
    view.dialog = dialog;
  }

  // Opens the view, on trace `id` when given.
  function open(id) {
    if (!view.dialog) build();
    if (!view.dialog.open) view.dialog.showModal();
    view.detail.replaceChildren(el("p", "hint", id ? "Loading…" : "Pick a run."));
    loadList(id);
    if (id) showTrace(id, 0);
    else view.dialog.querySelector("#traces-close").focus();
  }

  async function loadList(selected) {
    let body;
    try {
      body = await get("/v1/traces");
    } catch (error) {
      view.list.replaceChildren(el("li", "hint", "Could not list the traces: " + error.message));
      return;
    }
    const runs = body.data || [];
    view.list.replaceChildren();
    if (!runs.length) view.list.appendChild(el("li", "hint", "No run yet."));
    for (const run of runs) {
      const li = el("li", "trace-run" + (run.id === selected ? " current" : ""));
      li.dataset.id = run.id;
      const button = el("button", "trace-open");
      button.type = "button";
      button.append(
        el("span", "trace-run-name", run.entity || run.name || run.id),
        el("span", "trace-run-meta", [ms(run.duration_ms), run.status, tokens(run.usage)].join(" · ")),
        el("span", "trace-run-time", new Date(run.started_at_ms).toLocaleTimeString()),
      );
      button.addEventListener("click", () => showTrace(run.id, 0));
      li.appendChild(button);
      view.list.appendChild(li);
    }
  }

  async function showTrace(id, refreshed) {
    clearTimeout(view.timer);
    view.current = id;
    for (const li of view.list.querySelectorAll(".trace-run")) li.classList.toggle("current", li.dataset.id === id);
    let trace;
    try {
      trace = await get("/v1/traces/" + encodeURIComponent(id));
    } catch (error) {
      if (view.current === id) view.detail.replaceChildren(el("p", "hint", "Could not open the trace: " + error.message));
      return;
    }
    if (view.current !== id) return;
    const focused = document.activeElement && view.detail.contains(document.activeElement);
    render(trace);
    if (!focused && refreshed === 0) {
      const first = view.detail.querySelector("summary");
      if (first) first.focus();
    }
    // A run whose answer just ended may still be closing its spans: look again shortly.
    if (trace.status === "running" && refreshed < REFRESHES) {
      view.timer = setTimeout(() => {
        if (view.dialog.open && view.current === id) showTrace(id, refreshed + 1);
      }, 500);
    }
  }

  // ---- one trace -----------------------------------------------------------------------------

  // The spans in tree order, each with its depth.
  function treeOrder(spans) {
    const children = new Map();
    const roots = [];
    for (const span of spans) {
      if (span.parent === null || span.parent === undefined || !spans[span.parent]) roots.push(span);
      else {
        if (!children.has(span.parent)) children.set(span.parent, []);
        children.get(span.parent).push(span);
      }
    }
    const ordered = [];
    const visit = (span, depth) => {
      ordered.push({ span, depth });
      for (const child of children.get(span.index) || []) visit(child, depth + 1);
    };
    roots.forEach((root) => visit(root, 0));
    return ordered;
  }

  // What kind of work a span is, for its colour and label.
  function category(span) {
    switch (span.span) {
      case "invoke_agent":
        return "agent";
      case "chat":
        return "model";
      case "execute_tool":
        return "tool";
      case "mcp":
        return "mcp";
      case "http.server":
        return "http";
      case "workflow.run":
      case "workflow.superstep":
      case "executor.process":
        return "workflow";
      default:
        return "other";
    }
  }

  // The facts worth a glance, on the span's row.
  function facts(span) {
    const a = span.attributes || {};
    const out = [];
    const model = a["gen_ai.response.model"] || a["gen_ai.request.model"];
    if (span.span === "chat" && model) out.push(String(model));
    if ("gen_ai.usage.input_tokens" in a || "gen_ai.usage.output_tokens" in a)
      out.push((a["gen_ai.usage.input_tokens"] || 0) + " in / " + (a["gen_ai.usage.output_tokens"] || 0) + " out tokens");
    if (a["gen_ai.response.finish_reasons"]) out.push("finish: " + a["gen_ai.response.finish_reasons"]);
    if (a["gen_ai.tool.name"] && span.span !== "execute_tool") out.push("tool: " + a["gen_ai.tool.name"]);
    if (a["mcp.method.name"]) out.push(String(a["mcp.method.name"]));
    if (a["error.type"]) out.push("error: " + a["error.type"]);
    return out.join(" · ");
  }

  function render(trace) {
    const total = trace.duration_ms || Math.max(1, ...trace.spans.map((s) => s.start_ms + (s.duration_ms || 0)));
    const summary = el("div", "trace-summary");
    summary.append(
      el("h3", "trace-name", (trace.entity ? trace.entity + " · " : "") + trace.name),
      el("p", "trace-facts", [ms(trace.duration_ms), trace.status, tokens(trace.usage), (trace.models || []).join(", ")]
        .filter(Boolean)
        .join(" · ")),
      el("p", "trace-id", "trace " + trace.id),
    );
    const rows = el("ol", "waterfall");
    rows.setAttribute("aria-label", "Spans");
    for (const { span, depth } of treeOrder(trace.spans)) {
      const li = el("li", "span-row " + category(span) + (span.status === "error" ? " failed" : ""));
      li.dataset.span = span.span;
      const details = el("details");
      const head = el("summary");
      const label = el("span", "span-label");
      label.style.paddingLeft = Math.min(depth, 12) * 1.1 + "rem";
      label.append(el("span", "span-kind", category(span)), el("span", "span-name", span.name));
      const lane = el("span", "span-lane");
      const bar = el("span", "span-bar");
      bar.style.left = Math.min(100, (span.start_ms / total) * 100) + "%";
      bar.style.width = Math.max(0.5, ((span.duration_ms || total - span.start_ms) / total) * 100) + "%";
      lane.appendChild(bar);
      head.append(label, lane, el("span", "span-duration", ms(span.duration_ms)));
      details.appendChild(head);
      const line = facts(span);
      if (line) details.appendChild(el("div", "span-facts", line));
      const attributes = el("dl", "span-attributes");
      for (const [key, value] of Object.entries(span.attributes || {})) {
        attributes.append(el("dt", null, key), el("dd", null, typeof value === "string" ? value : JSON.stringify(value)));
      }
      details.appendChild(attributes);
      li.appendChild(details);
      // The facts show without opening the row too.
      if (line) li.appendChild(el("div", "span-facts-inline", line));
      rows.appendChild(li);
    }
    const parts = [summary, rows];
    if (trace.dropped_spans) parts.push(el("p", "hint", trace.dropped_spans + " more spans were not kept (limit per trace)."));
    view.detail.replaceChildren(...parts);
  }

  // A "Trace" button under a chat answer.
  function attach(item, traceId) {
    if (!item || !traceId) return;
    const button = el("button", "trace-link", "Trace");
    button.type = "button";
    button.dataset.traceId = traceId;
    button.setAttribute("aria-label", "Open the trace of this answer");
    button.addEventListener("click", () => open(traceId));
    item.appendChild(button);
  }

  function start() {
    const bar = document.querySelector(".bar");
    const theme = document.getElementById("theme");
    const button = el("button", null, "Traces");
    button.type = "button";
    button.id = "traces-button";
    button.addEventListener("click", () => open(null));
    if (bar) bar.insertBefore(button, theme);
  }

  window.WeftTraces = { open, attach };
  start();
})();
