// Weft DevUI: draws a workflow's graph as SVG, built with DOM calls (createElementNS and
// textContent: executor ids are text, never markup). The layout is by hand, and simple: each
// node's layer is its distance from the start (breadth first, so a loop's back edge points up),
// nodes of a layer side by side. A layout library (dagre, elk) would need a bundler or a CDN,
// which the page does without; workflows in DevUI are small enough for layers.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 150;
  const NODE_H = 38;
  const GAP_X = 30;
  const GAP_Y = 56;
  const JOIN_R = 12;

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Layers by breadth-first distance from the start; nodes it cannot reach go last.
  function layers(graph) {
    const next = new Map(graph.nodes.map((n) => [n.id, []]));
    for (const edge of graph.edges) if (next.has(edge.source)) next.get(edge.source).push(edge.target);
    const depth = new Map([[graph.start, 0]]);
    const queue = [graph.start];
    while (queue.length) {
      const id = queue.shift();
      for (const target of next.get(id) || []) {
        if (!depth.has(target)) {
          depth.set(target, depth.get(id) + 1);
          queue.push(target);
        }
      }
    }
    const deepest = Math.max(0, ...depth.values());
    const rows = [];
    for (const node of graph.nodes) {
      const row = depth.has(node.id) ? depth.get(node.id) : deepest + 1;
      (rows[row] = rows[row] || []).push(node);
    }
    return rows.filter(Boolean);
  }

  // Draws `graph` ({start, nodes: [{id, kind}], edges: [{source, target, label}]}) into a new
  // <svg>; returns it. Each executor is a <g class="node" data-id=ID data-state=pending>.
  function draw(graph) {
    const rows = layers(graph);
    const widest = Math.max(1, ...rows.map((row) => row.length));
    const width = widest * (NODE_W + GAP_X) + GAP_X;
    const height = rows.length * (NODE_H + GAP_Y) + GAP_Y / 2;
    const root = svg("svg", {
      class: "graph",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": "Workflow graph of " + (graph.name || "the workflow"),
    });
    const defs = svg("defs");
    const marker = svg("marker", {
      id: "arrow",
      viewBox: "0 0 10 10",
      refX: 10,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: "auto-start-reverse",
    });
    marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }));
    defs.appendChild(marker);
    root.appendChild(defs);

    const place = new Map();
    rows.forEach((row, r) => {
      const offset = (width - row.length * (NODE_W + GAP_X) + GAP_X) / 2;
      row.forEach((node, i) => {
        const x = offset + i * (NODE_W + GAP_X);
        const y = GAP_Y / 2 + r * (NODE_H + GAP_Y);
        place.set(node.id, { x, y, node, cx: x + NODE_W / 2, cy: y + NODE_H / 2 });
      });
    });

    const edges = svg("g", { class: "edges" });
    for (const edge of graph.edges) {
      const from = place.get(edge.source);
      const to = place.get(edge.target);
      if (!from || !to) continue;
      const join = (p) => p.node.kind === "fan_in";
      const down = to.cy >= from.cy;
      const y1 = join(from) ? from.cy + (down ? JOIN_R : -JOIN_R) : down ? from.y + NODE_H : from.y;
      const y2 = join(to) ? to.cy + (down ? -JOIN_R : JOIN_R) : down ? to.y : to.y + NODE_H;
      const line = svg("path", {
        d: `M ${from.cx} ${y1} C ${from.cx} ${(y1 + y2) / 2}, ${to.cx} ${(y1 + y2) / 2}, ${to.cx} ${y2}`,
        class: edge.label ? "edge conditional" : "edge",
        "marker-end": "url(#arrow)",
      });
      line.dataset.source = edge.source;
      line.dataset.target = edge.target;
      edges.appendChild(line);
      if (edge.label) {
        edges.appendChild(
          svg("text", { x: (from.cx + to.cx) / 2 + 4, y: (y1 + y2) / 2, class: "edge-label" }, edge.label),
        );
      }
    }
    root.appendChild(edges);

    const nodes = svg("g", { class: "nodes" });
    for (const { x, y, cx, cy, node } of place.values()) {
      if (node.kind === "fan_in") {
        const g = svg("g", { class: "join" });
        g.appendChild(svg("circle", { cx, cy, r: JOIN_R }));
        g.appendChild(svg("title", {}, "fan-in"));
        nodes.appendChild(g);
        continue;
      }
      const g = svg("g", { class: "node" });
      g.dataset.id = node.id;
      g.dataset.state = "pending";
      g.appendChild(svg("rect", { x, y, width: NODE_W, height: NODE_H, rx: 6 }));
      const label = node.id.length > 18 ? node.id.slice(0, 17) + "…" : node.id;
      g.appendChild(svg("text", { x: cx, y: cy - 3, class: "node-label" }, label));
      g.appendChild(svg("text", { x: cx, y: cy + 12, class: "node-state" }, "pending"));
      g.appendChild(svg("title", {}, node.id + (node.id === graph.start ? " (start)" : "")));
      if (node.id === graph.start) g.classList.add("start");
      nodes.appendChild(g);
    }
    root.appendChild(nodes);
    return root;
  }

  // Shows each executor's state ({id: "pending" | "running" | "done" | "failed" | "waiting"}).
  function setStates(root, states) {
    for (const g of root.querySelectorAll("g.node")) {
      const value = (states && states[g.dataset.id]) || "pending";
      g.dataset.state = value;
      g.querySelector(".node-state").textContent = value;
    }
  }

  window.WeftGraph = { draw, setStates };
})();
