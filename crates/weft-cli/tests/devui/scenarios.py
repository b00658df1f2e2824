"""DevUI in a real browser: Debian's chromium driven by Playwright, against a running `weft serve --ui`.

    python scenarios.py BASE_URL SCENARIO SCREENSHOT_DIR [--token TOKEN]

Each scenario does what a user does and raises (exit 1) when the page does not behave; it saves
screenshots under SCREENSHOT_DIR. The browser is the system one (WEFT_CHROMIUM), never a download.
"""

import json
import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TIMEOUT = 30_000  # generous: CI runs the browser beside every other test on 2 cores

# Counts the updates of the assistant's text as they arrive, and records any script the page
# should never run (an XSS payload sets window.__xss).
WATCH = """
window.__textUpdates = 0;
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver((records) => {
    for (const r of records) {
      const t = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (t && t.closest && t.closest('.message.assistant')) window.__textUpdates += 1;
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
});
"""


def send(page, prompt):
    page.fill("#prompt", prompt)
    page.press("#prompt", "Enter")


def wait_idle(page):
    expect(page.locator("#send")).to_be_enabled(timeout=TIMEOUT)
    expect(page.locator("#stop")).to_be_disabled(timeout=TIMEOUT)


def last_answer(page):
    return page.locator(".message.assistant .body").last


def chat_streams(page, shots, base):
    expect(page.locator("#entity option")).to_have_text(["weft"])
    expect(page.locator("#prompt")).to_be_focused()
    send(page, "hello there")
    expect(page.locator(".message.user").last).to_contain_text("hello there")
    expect(last_answer(page)).to_have_text("You said: hello there", timeout=TIMEOUT)
    wait_idle(page)
    updates = page.evaluate("window.__textUpdates")
    assert updates >= 2, f"the answer arrived in {updates} update(s), not streamed"
    page.screenshot(path=os.path.join(shots, "chat-streams.png"))


def entity_tools(page, shots, base):
    # Above the chat: what the agent is and the tools it offers, opened from the keyboard.
    info = page.locator("#agent-info")
    expect(info).to_be_visible()
    expect(info.locator("summary")).to_have_text(re.compile(r"^weft: [2-9] tools$"))
    expect(info).not_to_have_attribute("open", "")
    info.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(info).to_have_attribute("open", "")
    expect(page.locator("#agent-description")).to_have_text("The weft CLI's demo agent")
    weather = page.locator("#agent-tools li").filter(has_text="get_weather")
    expect(weather).to_have_count(1)
    expect(weather).to_contain_text("Get the current weather forecast for a city (demo data)")
    expect(page.locator("#agent-tools li code")).to_contain_text(["add"])
    page.screenshot(path=os.path.join(shots, "entity-tools.png"))


def tool_call(page, shots, base):
    send(page, "Tell me the weather in Paris")
    tool = page.locator("details.tool").last
    expect(tool.locator(".tool-name")).to_have_text("get_weather", timeout=TIMEOUT)
    expect(last_answer(page)).to_contain_text("get_weather returned: weather in Paris", timeout=TIMEOUT)
    wait_idle(page)
    # Collapsed at first; opened by the keyboard, it shows the arguments and the result.
    expect(tool).not_to_have_attribute("open", "")
    tool.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(tool).to_have_attribute("open", "")
    expect(tool.locator(".tool-args")).to_contain_text('"city": "Paris"')
    expect(tool.locator(".tool-result")).to_contain_text("weather in Paris")
    page.screenshot(path=os.path.join(shots, "tool-call.png"))
    docs = os.environ.get("WEFT_DEVUI_DOCS_SCREENSHOT")
    if docs:
        page.locator("#prompt").focus()  # the README's picture shows no focus ring on the call
        page.screenshot(path=docs)


def stop(page, shots, base):
    # The run's stream is held open (the route never answers), as a slow model would: Stop
    # aborts the fetch, which drops the connection (the server cancels a run whose client left).
    page.route("**/v1/responses", lambda route: None)
    send(page, "a long answer please")
    expect(page.locator("#stop")).to_be_enabled(timeout=TIMEOUT)
    expect(page.locator("#send")).to_be_disabled()
    page.screenshot(path=os.path.join(shots, "stop-running.png"))
    page.click("#stop")
    expect(page.locator("#status")).to_have_text("Stopped.", timeout=TIMEOUT)
    wait_idle(page)
    page.unroute("**/v1/responses")
    # The page is usable again: the next prompt runs.
    send(page, "hello again")
    expect(last_answer(page)).to_have_text("You said: hello again", timeout=TIMEOUT)


def conversation(page, shots, base):
    send(page, "My name is Ada.")
    expect(last_answer(page)).to_contain_text("Ada", timeout=TIMEOUT)
    wait_idle(page)
    item = page.locator("#conversations li.conversation")
    expect(item).to_have_count(1)
    conversation_id = item.first.get_attribute("data-id")
    assert conversation_id and conversation_id.startswith("conv"), conversation_id
    page.click("#new-chat")
    expect(page.locator(".message")).to_have_count(0)
    # Resumed from the server's items after a reload (the ids are kept by the browser).
    page.reload()
    item.first.locator(".open").click()
    expect(page.locator(".message.user .body").first).to_have_text("My name is Ada.", timeout=TIMEOUT)
    send(page, "What is my name?")
    expect(last_answer(page)).to_have_text("Your name is Ada.", timeout=TIMEOUT)
    wait_idle(page)
    page.screenshot(path=os.path.join(shots, "conversation-resumed.png"))
    item.first.locator(".delete").click()
    expect(item).to_have_count(0, timeout=TIMEOUT)
    expect(page.locator(".message")).to_have_count(0)
    gone = page.request.get(f"{base}/v1/conversations/{conversation_id}")
    assert gone.status == 404, gone.status


def xss(page, shots, base):
    payload = ('<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
               '**bold** `code` [bad](javascript:window.__xss=3) [good](https://example.com/)')
    send(page, payload)
    answer = page.locator(".message.assistant .body").first
    expect(answer).to_contain_text('<img src=x onerror="window.__xss=1">', timeout=TIMEOUT)
    expect(answer).to_contain_text("<script>window.__xss=2</script>")
    wait_idle(page)
    # A tool result carrying markup: the forecast names the city it was given.
    send(page, "weather city: <img src=y onerror=window.__xss=4>")
    tool = page.locator("details.tool").last
    expect(tool.locator(".tool-result")).to_contain_text("<img src=y", timeout=TIMEOUT)
    wait_idle(page)
    tool.locator("summary").click()
    page.wait_for_timeout(300)  # time for an image error handler to fire, if one existed
    assert page.evaluate("window.__xss") is None, "an XSS payload ran"
    assert page.locator("#messages img, #messages script").count() == 0, "markup from the model became elements"
    # The markdown that is allowed renders; a javascript: link stays text.
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer.locator("code")).to_have_text("code")
    links = answer.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/")
    expect(answer).to_contain_text("[bad](javascript:window.__xss=3)")
    page.screenshot(path=os.path.join(shots, "xss-as-text.png"))


def markdown(page, shots, base):
    # The scripted model quotes the prompt: its markdown comes back as the model's.
    page.fill("#prompt", "list:\n- one **two**\n- three\n\n1. first\n2. second\n\n"
              "```rust\nfn main() { let x = 1 < 2; }\n```\nsee [docs](https://example.com/docs) and `inline`")
    page.press("#prompt", "Enter")
    answer = last_answer(page)
    expect(answer.locator("ul > li")).to_have_text(["one two", "three"], timeout=TIMEOUT)
    expect(answer.locator("ul strong")).to_have_text("two")
    expect(answer.locator("ol > li")).to_have_text(["first", "second"])
    expect(answer.locator("pre > code")).to_have_text("fn main() { let x = 1 < 2; }")
    expect(answer.locator("pre > code")).to_have_attribute("data-lang", "rust")
    expect(answer.locator("a")).to_have_attribute("href", "https://example.com/docs")
    expect(answer.locator("a")).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(answer.locator("p > code")).to_have_text("inline")
    wait_idle(page)
    page.screenshot(path=os.path.join(shots, "markdown.png"))


def layout(page, shots, base):
    # Keyboard: the prompt has focus; Tab goes on to Send; Enter sends.
    expect(page.locator("#prompt")).to_be_focused()
    page.keyboard.type("hello keyboard")
    page.keyboard.press("Tab")
    expect(page.locator("#send")).to_be_focused()
    page.keyboard.press("Enter")
    expect(last_answer(page)).to_have_text("You said: hello keyboard", timeout=TIMEOUT)
    wait_idle(page)
    # Themes: the toggle switches between dark and light, and the choice is kept.
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.click("#theme")
    after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert before != after, (before, after)
    theme = page.evaluate("document.documentElement.dataset.theme")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    page.screenshot(path=os.path.join(shots, f"layout-1280-{theme}.png"))
    # Phone width: nothing overflows sideways and the composer is on screen.
    page.set_viewport_size({"width": 390, "height": 844})
    send(page, "hello phone")
    expect(last_answer(page)).to_have_text("You said: hello phone", timeout=TIMEOUT)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide at 390px"
    expect(page.locator("#send")).to_be_in_viewport()
    page.screenshot(path=os.path.join(shots, "layout-390.png"))


def approval(page, shots, base):
    # `weft serve --approve`: every tool call waits for the user. Over Responses, the page says
    # the call waits and only AG-UI can answer it.
    send(page, "Tell me the weather in Paris")
    expect(page.locator("#status")).to_contain_text("choose the AG-UI protocol", timeout=TIMEOUT)
    expect(page.locator("details.tool .tool-state")).to_have_text(" waiting for approval")
    wait_idle(page)
    # Over AG-UI, the call is approved or rejected with buttons.
    page.select_option("#protocol", "agui")
    expect(page.locator(".message")).to_have_count(0)
    send(page, "Tell me the weather in Paris")
    tool = page.locator("details.tool").last
    approve = tool.locator(".approval .approve")
    expect(approve).to_be_visible(timeout=TIMEOUT)
    expect(tool.locator(".tool-args")).to_contain_text('"city": "Paris"')
    expect(tool.locator(".tool-result")).to_have_count(0)
    # The keyboard lands on Approve; a new prompt waits until the call is answered.
    expect(approve).to_be_focused()
    send(page, "something else")
    expect(page.locator("#status")).to_have_text("Approve or reject the tool call first.")
    expect(page.locator(".message.user")).to_have_count(1)
    page.screenshot(path=os.path.join(shots, "approval-asked.png"))
    page.keyboard.press("Enter")
    expect(tool.locator(".tool-result")).to_contain_text("weather in Paris", timeout=TIMEOUT)
    expect(last_answer(page)).to_contain_text("get_weather returned: weather in Paris", timeout=TIMEOUT)
    wait_idle(page)
    # A rejected call does not run; the agent answers without its result.
    send(page, "Tell me the weather in Rome")
    tool = page.locator("details.tool").last
    expect(tool.locator(".approval .reject")).to_be_visible(timeout=TIMEOUT)
    tool.locator(".approval .reject").click()
    expect(tool.locator(".tool-state")).to_have_text(" rejected")
    wait_idle(page)
    expect(page.locator(".message.assistant")).to_have_count(2, timeout=TIMEOUT)
    expect(tool.locator(".tool-result")).to_contain_text("did not approve")
    expect(last_answer(page)).to_contain_text("get_weather failed: the user did not approve")
    # AG-UI runs have their trace too: the last one shows the rejected call's spans.
    page.locator("#messages .trace-link").last.click()
    expect(page.locator("#trace-dialog .span-row.model")).not_to_have_count(0, timeout=TIMEOUT)
    expect(page.locator("#trace-dialog .waterfall .span-row").first).to_contain_text("POST /ag-ui/{entity}")
    page.keyboard.press("Escape")
    page.screenshot(path=os.path.join(shots, "approval-answered.png"))


def token(page, shots, base):
    # The server needs a token: the page asks once, keeps it for the tab, and sends it.
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    page.screenshot(path=os.path.join(shots, "token-dialog.png"))
    page.fill("#token-input", TOKEN)
    page.press("#token-input", "Enter")
    expect(page.locator("#entity option")).to_have_text(["weft"], timeout=TIMEOUT)
    send(page, "hello with a token")
    expect(last_answer(page)).to_have_text("You said: hello with a token", timeout=TIMEOUT)
    page.reload()
    expect(page.locator("#entity option")).to_have_text(["weft"], timeout=TIMEOUT)
    expect(dialog).not_to_be_visible()


def no_overflow(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide at {width}px"


def traces(page, shots, base):
    # Chat with a tool call, then open the answer's trace from its "Trace" button, by keyboard.
    send(page, "Tell me the weather in Paris")
    expect(last_answer(page)).to_contain_text("get_weather returned: weather in Paris", timeout=TIMEOUT)
    wait_idle(page)
    link = page.locator("#messages .trace-link").last
    expect(link).to_be_visible()
    link.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#trace-dialog")
    expect(dialog).to_be_visible()
    rows = dialog.locator(".waterfall .span-row")
    expect(rows.first).to_contain_text("POST /v1/responses", timeout=TIMEOUT)
    # The run's spans: the agent, two model calls, the tool call in between, with their facts.
    expect(dialog.locator(".span-row.agent .span-name")).to_have_text("invoke_agent weft")
    models = dialog.locator(".span-row.model")
    expect(models).to_have_count(2)
    expect(models.locator(".span-name")).to_have_text(["chat scripted", "chat scripted"])
    expect(models.first.locator(".span-facts-inline")).to_contain_text("scripted")
    expect(models.first.locator(".span-facts-inline")).to_contain_text("out tokens")
    expect(models.first.locator(".span-facts-inline")).to_contain_text("finish: tool_calls")
    expect(models.last.locator(".span-facts-inline")).to_contain_text("finish: stop")
    tool = dialog.locator(".span-row.tool")
    expect(tool.locator(".span-name")).to_have_text("execute_tool get_weather")
    expect(dialog.locator(".span-duration").first).to_contain_text("ms", timeout=TIMEOUT)
    # Usage per run, in the trace's header and in the list of recent runs.
    expect(dialog.locator(".trace-facts")).to_contain_text("in / ")
    expect(dialog.locator(".trace-run.current")).to_contain_text("weft")
    expect(dialog.locator(".trace-run.current")).to_contain_text("out tokens")
    # The first span row has the focus; Tab and Enter open the tool's row to its attributes.
    expect(rows.first.locator("summary")).to_be_focused()
    tool.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(tool.locator(".span-attributes")).to_contain_text("gen_ai.tool.name")
    expect(tool.locator(".span-attributes")).to_contain_text("get_weather")
    page.screenshot(path=os.path.join(shots, "trace-view.png"))
    docs = os.environ.get("WEFT_DEVUI_DOCS_TRACE_SCREENSHOT")
    if docs:
        page.evaluate("document.activeElement.blur()")  # no focus ring in the README's picture
        page.screenshot(path=docs)
        tool.locator("summary").focus()
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    # From the list: the header's Traces button opens the recent runs.
    page.click("#traces-button")
    expect(dialog).to_be_visible()
    page.locator("#trace-list .trace-open").first.click()
    expect(dialog.locator(".span-row.tool")).to_have_count(1, timeout=TIMEOUT)
    # Both themes, and phone width with nothing overflowing sideways.
    page.click("#traces-close")
    page.click("#theme")
    page.click("#traces-button")
    page.locator("#trace-list .trace-open").first.click()
    expect(dialog.locator(".span-row.model")).to_have_count(2, timeout=TIMEOUT)
    page.screenshot(path=os.path.join(shots, "trace-view-other-theme.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    no_overflow(page, 390)
    expect(dialog.locator("#traces-close")).to_be_in_viewport()
    page.screenshot(path=os.path.join(shots, "trace-view-390.png"))


def trace_xss(page, shots, base):
    # The server records message content (opted in): the prompt, the tool's arguments and result
    # reach the trace's attributes. Markup in them is shown as text, and nothing runs.
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    send(page, "weather city: " + payload)
    wait_idle(page)
    expect(page.locator("#messages .trace-link").last).to_be_visible(timeout=TIMEOUT)
    page.locator("#messages .trace-link").last.click()
    dialog = page.locator("#trace-dialog")
    expect(dialog.locator(".span-row.model")).to_have_count(2, timeout=TIMEOUT)
    for summary in dialog.locator(".waterfall summary").all():
        summary.click()
    expect(dialog.locator(".span-row.model .span-attributes").first).to_contain_text("gen_ai.input.messages")
    expect(dialog.locator(".span-row.tool .span-attributes")).to_contain_text("<img src=x")
    page.wait_for_timeout(300)  # time for an image error handler to fire, if one existed
    assert page.evaluate("window.__xss") is None, "an XSS payload ran"
    assert dialog.locator("img, script").count() == 0, "markup from a trace became elements"
    page.screenshot(path=os.path.join(shots, "trace-xss-as-text.png"))


def mcp_xss(page, shots, base):
    # An MCP server's tool result carrying markup: the Python `mcp` test server's `echo` tool
    # returns the text it was given.
    send(page, "echo text: <img src=z onerror=window.__xss=5> <script>window.__xss=6</script>")
    tool = page.locator("details.tool").last
    expect(tool.locator(".tool-name")).to_have_text("echo", timeout=TIMEOUT)
    expect(tool.locator(".tool-result")).to_contain_text("echo: <img src=z", timeout=TIMEOUT)
    wait_idle(page)
    tool.locator("summary").click()
    expect(tool.locator(".tool-result")).to_contain_text("<script>window.__xss=6</script>")
    expect(last_answer(page)).to_contain_text("<img src=z onerror=window.__xss=5>")
    page.wait_for_timeout(300)  # time for an image error handler to fire, if one existed
    assert page.evaluate("window.__xss") is None, "an XSS payload from an MCP server ran"
    assert page.locator("#messages img, #messages script").count() == 0, "markup from an MCP server became elements"


SCENARIOS = {f.__name__: f for f in [chat_streams, entity_tools, tool_call, stop, conversation, xss, markdown, layout, approval,
                                     token, traces, trace_xss, mcp_xss]}
TOKEN = None


def main():
    global TOKEN
    base, name, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    if "--token" in sys.argv:
        TOKEN = sys.argv[sys.argv.index("--token") + 1]
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
            SCENARIOS[name](page, shots, base)
            # Every scenario's end state is kept (a CI artifact).
            page.screenshot(path=os.path.join(shots, f"devui-{name}.png"))
        except Exception:
            page.screenshot(path=os.path.join(shots, f"{name}-failed.png"))
            raise
        finally:
            browser.close()
    # The token scenario's first request is answered 401 on purpose; the stop scenario's abort is
    # reported by nothing. Anything else on the console is a defect (CSP violations included).
    problems = [p for p in problems if not (name == "token" and "401" in p)]
    assert not problems, json.dumps(problems, indent=2)
    print(f"{name}: ok")


if __name__ == "__main__":
    main()
