"""Screenshots a Weft trace in Arize Phoenix's UI (used by scripts/screenshots.sh).

    python phoenix_screenshot.py PHOENIX_URL PROJECT SPAN_NAME OUT.png

Waits until PROJECT has an `invoke_agent` span (read back through Phoenix's REST API), opens
its trace in the UI with the last span named SPAN_NAME selected (Phoenix's
`/redirects/spans/ID` route) showing its attributes, and saves a 1280x800 screenshot. Drives Debian's chromium (WEFT_CHROMIUM, default
/usr/bin/chromium): Playwright never downloads a browser here.
"""
import json
import os
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

base, project, span_name, out = sys.argv[1:5]


def spans():
    with urllib.request.urlopen(f"{base}/v1/projects/{project}/spans?limit=100") as response:
        return json.load(response)["data"]


deadline = time.time() + 60
while True:
    try:
        found = spans()
    except OSError:
        found = []
    chosen = [span for span in found if span["name"] == span_name]
    if chosen and any(span["name"].startswith("invoke_agent") for span in found):
        break
    if time.time() > deadline:
        sys.exit(f"phoenix_screenshot: no span {span_name!r} in project {project} after 60 s: {found}")
    time.sleep(0.5)
span_id = max(chosen, key=lambda span: span["start_time"])["context"]["span_id"]

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=os.environ.get("WEFT_CHROMIUM", "/usr/bin/chromium"))
    page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="light")
    page.goto(f"{base}/redirects/spans/{span_id}")
    # The trace tree lists every span by name once the trace is loaded.
    page.get_by_text(span_name).first.wait_for(timeout=30_000)
    page.get_by_text("invoke_agent", exact=False).first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Attributes").click()
    page.wait_for_load_state("networkidle")
    time.sleep(1)
    page.screenshot(path=out)
    browser.close()
print(f"wrote {out}")
