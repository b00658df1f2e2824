// Weft DevUI: forms generated from a JSON schema, for a workflow's requests for input. Handles
// string, number, integer, boolean, enum (and a oneOf/anyOf of constants), and objects of those
// (nested objects become fieldsets); anything else is a JSON textarea. Required fields are
// checked before the answer is sent. Built with DOM calls only: titles and descriptions from
// the schema are text.
"use strict";

(function () {
  let counter = 0;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // `$ref: "#/$defs/X"` (or definitions) resolved against the root schema.
  function resolve(schema, root) {
    let seen = 0;
    while (schema && typeof schema.$ref === "string" && seen++ < 16) {
      const path = schema.$ref.replace(/^#\//, "").split("/");
      let target = root;
      for (const part of path) target = target && target[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      schema = target || {};
    }
    return schema || {};
  }

  // The constants of an enum-like schema, or null.
  function choices(schema, root) {
    if (Array.isArray(schema.enum)) return schema.enum;
    const options = schema.oneOf || schema.anyOf;
    if (Array.isArray(options)) {
      const values = options.map((o) => resolve(o, root)).map((o) => ("const" in o ? o.const : undefined));
      if (values.length && values.every((v) => v !== undefined)) return values;
    }
    return null;
  }

  function typeOf(schema) {
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
    return type || (schema.properties ? "object" : undefined);
  }

  // One field for `schema`: returns {node, read() -> {ok, value, error}, focus()}.
  function field(schema, root, name, label, required) {
    schema = resolve(schema, root);
    const id = "wf-field-" + ++counter;
    const wrap = el("div", "form-field");
    wrap.dataset.name = name;
    const title = schema.title || label;
    const caption = el("label", null, title + (required ? " *" : ""));
    caption.htmlFor = id;
    const help = schema.description ? el("small", "form-help", schema.description) : null;
    const error = el("span", "form-error");
    error.setAttribute("role", "alert");
    const fail = (message) => {
      error.textContent = message;
      return { ok: false, error: message };
    };
    const pass = (value) => {
      error.textContent = "";
      return { ok: true, value };
    };
    const type = typeOf(schema);
    const values = choices(schema, root);
    let input;
    let read;

    if (values) {
      input = el("select");
      if (!required) input.appendChild(el("option", null, ""));
      values.forEach((value, i) => {
        const option = el("option", null, String(value));
        option.value = String(i);
        input.appendChild(option);
      });
      read = () => {
        if (input.value === "") return required ? fail(title + " is required") : pass(undefined);
        return pass(values[Number(input.value)]);
      };
    } else if (type === "boolean") {
      input = el("input");
      input.type = "checkbox";
      read = () => pass(input.checked);
    } else if (type === "number" || type === "integer") {
      input = el("input");
      input.type = "number";
      if (type === "integer") input.step = "1";
      read = () => {
        const text = input.value.trim();
        if (!text) return required ? fail(title + " is required") : pass(undefined);
        const number = Number(text);
        if (!Number.isFinite(number)) return fail(title + " must be a number");
        if (type === "integer" && !Number.isInteger(number)) return fail(title + " must be a whole number");
        return pass(number);
      };
    } else if (type === "string") {
      const long = !schema.maxLength || schema.maxLength > 200;
      input = el(long ? "textarea" : "input");
      if (long) input.rows = 2;
      else input.type = "text";
      read = () => {
        const text = input.value;
        if (!text.trim()) return required ? fail(title + " is required") : pass(undefined);
        return pass(text);
      };
    } else if (type === "object" && schema.properties) {
      const set = el("fieldset", "form-object");
      set.appendChild(el("legend", null, title));
      const needed = new Set(schema.required || []);
      const fields = Object.entries(schema.properties).map(([key, sub]) => {
        const f = field(sub, root, key, key, needed.has(key));
        set.appendChild(f.node);
        return [key, f];
      });
      return {
        node: set,
        focus: () => fields.length && fields[0][1].focus(),
        read: () => {
          const value = {};
          let ok = true;
          for (const [key, f] of fields) {
            const result = f.read();
            if (!result.ok) ok = false;
            else if (result.value !== undefined) value[key] = result.value;
          }
          return ok ? { ok: true, value } : { ok: false };
        },
      };
    } else {
      input = el("textarea", "form-json");
      input.rows = 4;
      input.placeholder = "JSON";
      read = () => {
        const text = input.value.trim();
        if (!text) return required ? fail(title + " is required") : pass(undefined);
        try {
          return pass(JSON.parse(text));
        } catch (_) {
          return fail(title + " must be JSON");
        }
      };
    }
    input.id = id;
    input.name = name;
    input.addEventListener("input", () => (error.textContent = "")); // fixed: the message goes
    if (required) input.required = true;
    if (help) {
      help.id = id + "-help";
      input.setAttribute("aria-describedby", help.id);
    }
    wrap.append(caption, input);
    if (help) wrap.appendChild(help);
    wrap.appendChild(error);
    return { node: wrap, read, focus: () => input.focus() };
  }

  // A form for an answer of `schema`, titled `message`; `onSubmit(value)` gets the valid answer.
  function build(schema, message, onSubmit) {
    const root = schema || {};
    const form = el("form", "input-form");
    form.noValidate = true; // checked here, with messages beside the fields
    if (message) form.appendChild(el("p", "form-message", message));
    // The top schema's title is the answer's Rust type name (String, Approval): "Answer" reads better.
    const top = Object.assign({}, resolve(root, root));
    delete top.title;
    const f = field(top, root, "answer", "Answer", true);
    form.appendChild(f.node);
    const submit = el("button", "submit", "Send");
    submit.type = "submit";
    form.appendChild(submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const result = f.read();
      if (!result.ok) {
        const bad = form.querySelector(".form-error:not(:empty)");
        const input = bad && bad.parentElement.querySelector("input, textarea, select");
        if (input) input.focus();
        return;
      }
      form.querySelectorAll("input, textarea, select, button").forEach((node) => (node.disabled = true));
      onSubmit(result.value);
    });
    return { form, focus: f.focus };
  }

  window.WeftForms = { build };
})();
