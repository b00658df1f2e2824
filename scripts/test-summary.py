#!/usr/bin/env python3
"""Prints what scripts/test ran: tests run and their outcome, doctests, MCP conformance scenarios,
the static binary's check, and every test that did not run, with the reason. Exits non-zero when a listed test neither ran
nor has a reason to be left out, so a test can never vanish silently.

Inputs: nextest's JUnit report of the run, `cargo nextest list --run-ignored all --message-format
json` (every test that exists), the doctests', the conformance suite's and the static build's logs,
and the directory of the browser tests' screenshots (counted, and named so CI's artifacts can be
found).
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET


def junit_results(path):
    """{(binary id, test name): outcome} from nextest's JUnit report."""
    results = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        print(f"test summary: no JUnit report at {path} ({error}): the test run did not finish", file=sys.stderr)
        return None
    for case in root.iter("testcase"):
        key = (case.get("classname"), case.get("name"))
        if case.find("failure") is not None or case.find("error") is not None:
            results[key] = "failed"
        elif case.find("skipped") is not None:
            results[key] = "skipped"
        else:
            results[key] = "passed"
    return results


def listed_tests(path):
    """[(binary id, test name, ignore flag)] of every test in the workspace."""
    with open(path, encoding="utf-8") as file:
        listing = json.load(file)
    tests = []
    for binary_id, suite in listing["rust-suites"].items():
        for name, case in suite.get("testcases", {}).items():
            tests.append((binary_id, name, case.get("ignored", False)))
    return tests


def doctest_counts(path):
    passed = failed = ignored = 0
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            match = re.match(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", line)
            if match:
                passed += int(match[1])
                failed += int(match[2])
                ignored += int(match[3])
    return passed, failed, ignored


def conformance_counts(path):
    passed, failed = [], []
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            match = re.match(r"conformance: (\S+) (passed|FAILED)$", line.strip())
            if match:
                (passed if match[2] == "passed" else failed).append(match[1])
    return passed, failed


def conformance_server_counts(path):
    """Server scenarios passed and failed, and the suite's `Total: N passed, M failed` of checks."""
    passed, failed, total = [], [], None
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            line = line.strip()
            match = re.match(r"conformance-server: (\S+) (passed|FAILED)$", line)
            if match:
                (passed if match[2] == "passed" else failed).append(match[1])
            match = re.match(r"conformance-server: (Total: .*)$", line)
            if match:
                total = match[1]
    return passed, failed, total


def screenshot_count(directory):
    """How many PNG files the browser tests left under `directory` (0 when it does not exist)."""
    count = 0
    for _root, _dirs, files in os.walk(directory):
        count += sum(1 for name in files if name.endswith(".png"))
    return count


def static_build_passed(path):
    """Whether scripts/static-build.sh's log holds its final "passed" line (and no failure)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.read().splitlines()
    except OSError:
        return False
    return any(line.startswith("static build: passed") for line in lines) and not any(
        "FAILED" in line for line in lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--junit", required=True)
    parser.add_argument("--list", required=True)
    parser.add_argument("--doctests", required=True)
    parser.add_argument("--conformance", required=True)
    parser.add_argument("--screenshots", help="the directory the browser tests save their screenshots in")
    parser.add_argument("--static-build", required=True,
                        help="the log of scripts/static-build.sh (passed when it ends with its passed line)")
    parser.add_argument("--excluded-binary", action="append", default=[],
                        help="BINARY_ID=REASON: a test binary left out on purpose")
    args = parser.parse_args()

    excluded = dict(item.split("=", 1) for item in args.excluded_binary)
    results = junit_results(args.junit) or {}
    tests = listed_tests(args.list)
    outcomes = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in results.values():
        outcomes[outcome] += 1

    not_run = []
    for binary_id, name, ignored in tests:
        if (binary_id, name) in results and results[(binary_id, name)] != "skipped":
            continue
        reason = excluded.get(binary_id)
        not_run.append((binary_id, name, reason))

    doc_passed, doc_failed, doc_ignored = doctest_counts(args.doctests)
    conf_passed, conf_failed = conformance_counts(args.conformance)
    server_passed, server_failed, server_total = conformance_server_counts(args.conformance)

    ran = outcomes["passed"] + outcomes["failed"]
    print(f"tests:       {ran} ran: {outcomes['passed']} passed, {outcomes['failed']} failed "
          f"(of {len(tests)} in the workspace)")
    print(f"doctests:    {doc_passed + doc_failed} ran: {doc_passed} passed, {doc_failed} failed"
          + (f", {doc_ignored} ignored (marked `ignore` in their doc comments)" if doc_ignored else ""))
    print(f"conformance: {len(conf_passed) + len(conf_failed)} MCP scenarios ran: {len(conf_passed)} passed"
          + (f", failed: {' '.join(conf_failed)}" if conf_failed else ""))
    print(f"conformance server: {len(server_passed) + len(server_failed)} MCP server scenarios ran: "
          f"{len(server_passed)} passed"
          + (f", failed: {' '.join(server_failed)}" if server_failed else "")
          + f" ({server_total or 'no total'} checks)")
    if args.screenshots:
        print(f"screenshots: {screenshot_count(args.screenshots)} kept in {args.screenshots}")
    static_passed = static_build_passed(args.static_build)
    print(f"static:      the musl binary {'built, is static and serves alone in a chroot' if static_passed else 'FAILED (see ' + args.static_build + ')'}")
    for (binary_id, name), outcome in sorted(results.items()):
        if outcome == "failed":
            print(f"  FAILED {binary_id} {name}")
    print(f"skipped:     {len(not_run)}")
    unexplained = 0
    for binary_id, name, reason in not_run:
        if reason is None:
            unexplained += 1
            reason = "NOT RUN and no reason: the run stopped early or the test was filtered out"
        print(f"  {binary_id} {name}: {reason}")
    if (outcomes["failed"] or doc_failed or conf_failed or server_failed or not server_passed or unexplained
            or not results or not static_passed):
        sys.exit(1)


if __name__ == "__main__":
    main()
