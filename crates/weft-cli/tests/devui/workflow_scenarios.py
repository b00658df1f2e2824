"""DevUI's workflow features in a real browser: Debian's chromium driven by Playwright, against a
running `weft serve --ui` serving the example workflow files.

    python workflow_scenarios.py BASE_URL SCENARIO SCREENSHOT_DIR [DOCS_SCREENSHOT]

Each scenario does what a user does and raises (exit 1) when the page does not behave; it saves
a screenshot (PNG) under SCREENSHOT_DIR. The browser is the system one (WEFT_CHROMIUM).
"""

import json
import os
import sys

from playwright.sync_api import expect, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TIMEOUT = 15_000

# Records every state an executor's node showed, in order (from each change's old value: the
# states a run goes through may all be set in one task).
WATCH = """
window.__states = [];
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === 'data-state' && r.target.dataset && r.target.dataset.id) {
        window.__states.push(r.target.dataset.id + ':' + r.oldValue);
      }
    }
  }).observe(document.body, {subtree: true, attributes: true, attributeOldValue: true,
                                     attributeFilter: ['data-state']});
});
"""


def send(page, prompt):
    page.fill("#prompt", prompt)
    page.press("#prompt", "Enter")


def wait_idle(page):
    expect(page.locator("#send")).to_be_enabled(timeout=TIMEOUT)
    expect(page.locator("#stop")).to_be_disabled(timeout=TIMEOUT)


def node(page, executor):
    return page.locator(f'#wf-graph g.node[data-id="{executor}"]')


def pick(page, workflow):
    expect(page.locator(f'#entity option[value="{workflow}"]')).to_have_text(f"{workflow} (workflow)",
                                                                          timeout=TIMEOUT)
    page.select_option("#entity", workflow)
    expect(page.locator("#workflow")).to_be_visible()
    expect(page.locator("#protocol")).to_have_value("agui")


def graph(page, shots, base, docs):
    pick(page, "requests")
    expect(page.locator("#wf-name")).to_have_text("requests")
    # The graph: one node per executor, all pending, and the edges between them.
    expect(page.locator("#wf-graph g.node")).to_have_count(3)
    for executor in ["clerk", "approver", "archivist"]:
        expect(node(page, executor)).to_have_attribute("data-state", "pending")
    expect(page.locator("#wf-graph path.edge")).to_have_count(2)
    send(page, "please approve the budget")
    expect(node(page, "clerk")).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    expect(node(page, "approver")).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    wait_idle(page)
    # The condition sent the clerk's answer to the approver only.
    expect(node(page, "archivist")).to_have_attribute("data-state", "pending")
    # Each executor went through running before done: the states were updated live.
    states = page.evaluate("window.__states")
    for executor in ["clerk", "approver"]:
        shown = [s.split(":", 1)[1] for s in states if s.startswith(executor + ":")] + ["done"]
        history = [v for i, v in enumerate(shown) if i == 0 or shown[i - 1] != v]
        assert history[-3:] == ["pending", "running", "done"], (executor, history)
    events = page.locator("#wf-events li")
    expect(events.filter(has_text="clerk started")).to_have_count(1)
    expect(events.filter(has_text="approver finished")).to_have_count(1)
    expect(events.last).to_have_text("run finished")
    expect(page.locator("#wf-outputs li")).to_have_count(1)
    expect(page.locator("#wf-outputs li").first).to_contain_text("approver")
    expect(page.locator("#wf-outputs li").first).to_contain_text("You said:")
    expect(page.locator(".message.assistant .body").last).to_contain_text("You said:")
    expect(page.locator("#wf-checkpoints li").first).to_be_visible(timeout=TIMEOUT)
    assert page.evaluate("window.__xss") is None
    page.screenshot(path=os.path.join(shots, "workflow-graph.png"))


def paused(page):
    """Runs the publishing workflow until its review asks for input."""
    pick(page, "publishing")
    expect(page.locator("#wf-graph g.node")).to_have_count(4)
    send(page, "Draft a haiku")
    form = page.locator("form.input-form").last
    expect(form).to_be_visible(timeout=TIMEOUT)
    expect(form.locator(".form-message")).to_have_text("Publish the draft? (yes/no)")
    expect(node(page, "writer")).to_have_attribute("data-state", "done")
    # The executor that asked waits for the answer while the question is open.
    expect(node(page, "review")).to_have_attribute("data-state", "waiting")
    expect(node(page, "review").locator(".node-state")).to_have_text("waiting")
    expect(page.locator("#wf-events li").filter(has_text="review waits for input")).to_have_count(1)
    expect(node(page, "publisher")).to_have_attribute("data-state", "pending")
    expect(page.locator("#status")).to_have_text("Waiting for input.")
    return form


def human_input(page, shots, base, docs):
    form = paused(page)
    page.screenshot(path=os.path.join(shots, "workflow-input-form.png"))
    if docs:
        page.screenshot(path=docs)
    # Required: an empty answer is not sent.
    expect(form.locator("textarea, input").first).to_be_focused()
    form.locator("button.submit").click()
    expect(form.locator(".form-error")).to_have_text("Answer is required")
    expect(node(page, "publisher")).to_have_attribute("data-state", "pending")
    form.locator("textarea, input").first.fill("yes, publish it")
    form.locator("button.submit").click()
    expect(node(page, "publisher")).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    expect(node(page, "review")).to_have_attribute("data-state", "done")
    wait_idle(page)
    expect(page.locator("#status")).to_have_text("Done.")
    expect(node(page, "shredder")).to_have_attribute("data-state", "pending")
    expect(page.locator("#wf-events li").last).to_have_text("run finished")
    expect(page.locator("#wf-outputs li").last).to_contain_text("publisher")
    page.screenshot(path=os.path.join(shots, "workflow-input-answered.png"))


def checkpoints(page, shots, base, docs):
    form = paused(page)
    form.locator("textarea, input").first.fill("no")
    form.locator("button.submit").click()
    expect(node(page, "shredder")).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    wait_idle(page)
    expect(node(page, "publisher")).to_have_attribute("data-state", "pending")
    # The run's checkpoints are listed; the one after the writer's superstep is before the
    # question: resuming from it asks again, and this time the draft is published.
    listed = page.locator("#wf-checkpoints li")
    expect(listed.first).to_be_visible(timeout=TIMEOUT)
    supersteps = [int(s) for s in listed.evaluate_all("items => items.map(i => i.dataset.superstep)")]
    assert 1 in supersteps and max(supersteps) >= 3, supersteps
    page.screenshot(path=os.path.join(shots, "workflow-checkpoints.png"))
    # The answer continued the paused run from its checkpoint: one "resumed" line so far.
    resumed = page.locator("#wf-events li").filter(has_text="resumed")
    expect(resumed).to_have_count(1)
    page.locator('button[aria-label="Resume from the checkpoint after superstep 1"]').click()
    expect(page.locator("#wf-events li.resume")).to_have_count(1)
    expect(resumed).to_have_count(2, timeout=TIMEOUT)
    # Resumed after superstep 1: the writer does not run again, the review asks again.
    form = page.locator("form.input-form").last
    expect(form).to_be_enabled(timeout=TIMEOUT)
    expect(page.locator("#status")).to_have_text("Waiting for input.", timeout=TIMEOUT)
    expect(node(page, "writer")).to_have_attribute("data-state", "pending")
    expect(node(page, "review")).to_have_attribute("data-state", "waiting")
    form.locator("textarea, input").first.fill("yes")
    form.locator("button.submit").click()
    expect(node(page, "publisher")).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    wait_idle(page)
    expect(page.locator("#wf-outputs li").last).to_contain_text("publisher")
    page.screenshot(path=os.path.join(shots, "workflow-resumed.png"))


SCHEMA = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean", "description": "Publish it?"},
        "copies": {"type": "integer", "minimum": 1},
        "price": {"type": "number"},
        "tone": {"enum": ["calm", "loud"]},
        "note": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["copies", "tone", "tags"],
}


def sse(events):
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events)


def schema_form(page, shots, base, docs):
    # The server's run is replaced by one whose request asks for an object: the form has a
    # field per property, checks the required ones and sends the answer as the resume payload.
    sent = []

    def handle(route):
        body = json.loads(route.request.post_data)
        sent.append(body)
        if not body.get("resume"):
            interrupt = {"id": "req-1", "reason": "human_input", "message": "Review the <b>draft</b>",
                         "toolCallId": "req-1", "responseSchema": SCHEMA}
            events = [{"type": "RUN_STARTED", "threadId": body["threadId"], "runId": body["runId"]},
                      {"type": "TOOL_CALL_START", "toolCallId": "req-1", "toolCallName": "request_info"},
                      {"type": "TOOL_CALL_ARGS", "toolCallId": "req-1", "delta": "{}"},
                      {"type": "TOOL_CALL_END", "toolCallId": "req-1"},
                      {"type": "RUN_FINISHED", "threadId": body["threadId"], "runId": body["runId"],
                       "outcome": {"type": "interrupt", "interrupts": [interrupt]}}]
        else:
            events = [{"type": "RUN_STARTED", "threadId": body["threadId"], "runId": body["runId"]},
                      {"type": "TEXT_MESSAGE_START", "messageId": "m1", "role": "assistant"},
                      {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m1", "delta": "thanks"},
                      {"type": "TEXT_MESSAGE_END", "messageId": "m1"},
                      {"type": "RUN_FINISHED", "threadId": body["threadId"], "runId": body["runId"],
                       "outcome": {"type": "success"}}]
        route.fulfill(status=200, headers={"content-type": "text/event-stream"}, body=sse(events))

    pick(page, "publishing")
    page.route("**/ag-ui/publishing", handle)
    send(page, "Draft a haiku")
    form = page.locator("form.input-form").last
    expect(form).to_be_visible(timeout=TIMEOUT)
    expect(form.locator(".form-message")).to_have_text("Review the <b>draft</b>")
    field = lambda name: form.locator(f'.form-field[data-name="{name}"]')
    expect(field("approved").locator("input")).to_have_attribute("type", "checkbox")
    expect(field("copies").locator("input")).to_have_attribute("type", "number")
    expect(field("tone").locator("select option")).to_have_text(["calm", "loud"])
    expect(field("tags").locator("textarea.form-json")).to_be_visible()
    # The required fields are checked before anything is sent.
    form.locator("button.submit").click()
    expect(field("tags").locator(".form-error")).to_have_text("tags is required")
    field("copies").locator("input").fill("2.5")
    field("tags").locator("textarea").fill("[not json")
    form.locator("button.submit").click()
    expect(field("copies").locator(".form-error")).to_have_text("copies must be a whole number")
    expect(field("tags").locator(".form-error")).to_have_text("tags must be JSON")
    assert len(sent) == 1, sent
    field("approved").locator("input").check()
    field("copies").locator("input").fill("3")
    field("price").locator("input").fill("9.5")
    field("tone").locator("select").select_option(label="loud")
    field("tags").locator("textarea").fill('["poem", "<i>x</i>"]')
    page.screenshot(path=os.path.join(shots, "workflow-schema-form.png"))
    form.locator("button.submit").click()
    expect(page.locator(".message.assistant .body").last).to_have_text("thanks", timeout=TIMEOUT)
    wait_idle(page)
    assert len(sent) == 2, sent
    assert sent[1]["resume"] == [{"interruptId": "req-1", "status": "resolved", "payload": {
        "approved": True, "copies": 3, "price": 9.5, "tone": "loud", "tags": ["poem", "<i>x</i>"]}}], sent[1]
    assert page.locator("#messages b, #messages i").count() == 0


SCENARIOS = {f.__name__: f for f in [graph, human_input, checkpoints, schema_form]}


def main():
    base, name, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    docs = sys.argv[4] if len(sys.argv) > 4 else None
    os.makedirs(shots, exist_ok=True)
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ["WEFT_CHROMIUM"], args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(WATCH)
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.type}: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.set_default_timeout(TIMEOUT)
        page.goto(base + "/")
        try:
            SCENARIOS[name](page, shots, base, docs)
        except Exception:
            page.screenshot(path=os.path.join(shots, f"workflow-{name}-failed.png"))
            raise
        finally:
            browser.close()
    # Anything on the console is a defect (CSP violations included).
    assert not problems, json.dumps(problems, indent=2)
    print(f"{name}: ok")


if __name__ == "__main__":
    main()
