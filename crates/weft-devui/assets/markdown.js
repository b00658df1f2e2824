// A tiny markdown renderer for untrusted text (model output). It builds DOM nodes and sets only
// textContent and vetted attributes: no HTML string is ever parsed, so markup in the text shows
// as text. Supported: paragraphs, fenced code blocks, inline code, **bold**, bullet and numbered
// lists, [links](https://…) with http(s) targets only (others render as text).
"use strict";

(function () {
  const FENCE = /^```/;
  const BULLET = /^\s*[-*+]\s+(.*)$/;
  const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;

  function el(tag, text) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Only absolute http(s) URLs become links.
  function safeUrl(raw) {
    try {
      const url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  // Appends the inline content of `text` to `parent`: `code`, **bold**, [text](url).
  function inline(parent, text) {
    const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("code", match[1]));
      } else if (match[2] !== undefined) {
        const strong = el("strong");
        inline(strong, match[2]);
        parent.appendChild(strong);
      } else {
        const href = safeUrl(match[4]);
        if (href) {
          const a = el("a", match[3]);
          a.href = href;
          a.rel = "noopener noreferrer nofollow";
          a.target = "_blank";
          parent.appendChild(a);
        } else {
          parent.appendChild(document.createTextNode(match[0]));
        }
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Renders `text` as a DocumentFragment.
  function render(text) {
    const out = document.createDocumentFragment();
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (FENCE.test(line)) {
        const lang = line.slice(3).trim();
        const body = [];
        i += 1;
        while (i < lines.length && !FENCE.test(lines[i])) {
          body.push(lines[i]);
          i += 1;
        }
        i += 1; // the closing fence (or the end)
        const pre = el("pre");
        const code = el("code", body.join("\n"));
        if (/^[\w-]+$/.test(lang)) code.dataset.lang = lang;
        pre.appendChild(code);
        out.appendChild(pre);
      } else if (BULLET.test(line) || NUMBERED.test(line)) {
        const numbered = !BULLET.test(line);
        const kind = numbered ? NUMBERED : BULLET;
        const list = el(numbered ? "ol" : "ul");
        while (i < lines.length && kind.test(lines[i])) {
          const li = el("li");
          inline(li, kind.exec(lines[i])[1]);
          list.appendChild(li);
          i += 1;
        }
        out.appendChild(list);
      } else if (line.trim() === "") {
        i += 1;
      } else {
        const para = [];
        while (
          i < lines.length && lines[i].trim() !== "" && !FENCE.test(lines[i]) &&
          !BULLET.test(lines[i]) && !NUMBERED.test(lines[i])
        ) {
          para.push(lines[i]);
          i += 1;
        }
        const p = el("p");
        para.forEach((part, index) => {
          if (index > 0) p.appendChild(el("br"));
          inline(p, part);
        });
        out.appendChild(p);
      }
    }
    return out;
  }

  window.WeftMarkdown = Object.freeze({ render, safeUrl });
})();
