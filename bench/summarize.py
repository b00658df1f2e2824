"""Medians of bench/run.sh's RESULT lines, with Weft/peer ratios, as Markdown (BENCHMARKS.md).

    python3 bench/summarize.py results.txt machine.txt [shared RESULTS.md] > BENCHMARKS.md

Notes per row: W7's open fds before->after and child processes after, per run (a leak shows
as after > before); W4's text updates; W2/W3's tool calls (peers that count them); mock
requests when they differ from WORKLOADS.md's expected count; stderr lines. With W1-otel rows
(ONLY=W1-otel), a last section compares Weft's W1 with OTLP export on and off, run by run.
Rows are per runtime (runtime=multi|current|asyncio, RUNTIMES in bench/run.sh): a Rust process
is compared with the peers on the same runtime, and with the Python peers (one asyncio loop).
"""
import statistics
import sys
from collections import defaultdict

RUST = {"weft", "floor-rust", "rig"}
rows = defaultdict(list)
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        kv = dict(f.split("=", 1) for f in line.split()[1:])
        # results of a run.sh without RUNTIMES: the multi-thread runtime, the Python event loop
        runtime = kv.get("runtime") or ("multi" if kv["peer"] in RUST else "asyncio")
        rows[(kv["workload"], kv["api"], runtime, kv["peer"])].append(kv)
machine = open(sys.argv[2]).read().strip() if len(sys.argv) > 2 else ""


def med(rs, key):
    vals = [float(r[key]) for r in rs if key in r]
    return statistics.median(vals) if vals else float("nan")


def ratio(a, b, fmt):
    return fmt.format(a / b) + "x" if b > 0 else "-"


# requests the mock should see per process (WORKLOADS.md); more = hidden retries or extra calls
expected_reqs = {"W1": 1000, "W1-otel": 1000, "W2": 1000, "W3": 400, "W4": 1}


def notes(w, rs):
    out = []
    if "fd_before" in rs[0]:
        out.append("fds " + ", ".join(f"{r['fd_before']}->{r['fd_after']}" for r in rs))
        out.append("children after: " + ",".join(r.get("children_after", "?") for r in rs))
    if "text_updates" in rs[0]:
        out.append("text updates " + rs[0]["text_updates"])
    if "tool_calls" in rs[0]:
        out.append("tool calls " + rs[0]["tool_calls"])
    want = expected_reqs.get(w, 0)
    if any(int(float(r.get("mock_reqs", 0))) != want for r in rs):
        out.append(f"mock reqs {','.join(r.get('mock_reqs', '?') for r in rs)} (expected {want})")
    errs = max(int(r.get("stderr_lines", 0)) for r in rs)
    if errs:
        out.append(f"stderr lines {errs}")
    return "; ".join(out)


order = {"weft": 0, "floor-rust": 1, "rig": 2, "maf-python": 3, "langgraph": 4, "openai-agents": 5, "pydantic-ai": 6}
runtime_order = {"multi": 0, "current": 1, "asyncio": 2}
keys = sorted(rows, key=lambda k: (k[0], k[1], runtime_order.get(k[2], 9), order.get(k[3], 9), k[3]))
print("# Benchmarks\n")
print("Produced by `bench/run.sh` (workloads: `../shared/bench/WORKLOADS.md`; mock: `../shared/bench/mockllm`).")
print("Medians over runs; CPU is the client's own CPU in the timed region (getrusage): for W6/W7 the")
print("MCP echo server's CPU (a child process on stdio, a separate process on HTTP) is not in it.")
print("Each Rust process (Weft, floor-rust, rig) runs twice: on tokio's multi-thread runtime (`multi`,")
print("a worker per core) and on its current-thread runtime (`current`: `WEFT_THREADS=1`,")
print("`FLOOR_THREADS=1`, `RIG_THREADS=1`); the Python peers run on one asyncio loop (`asyncio`).")
print("The `weft` CLI runs its one-shot commands (`weft run`, `weft chat`, workflows) on the")
print("current-thread runtime: one conversation at a time needs no second thread and saves the")
print("cross-thread wake-ups; `weft serve` and `weft devui` use the multi-thread runtime, to use every")
print("core for concurrent requests.\n")
print("```\n" + machine + "\n```\n")
print("| workload | api | runtime | peer | runs | ok (all runs) | wall s | ops/s | CPU s (region) | CPU ms per item | peak RSS MB | mock reqs | notes |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for k in keys:
    rs = rows[k]
    w, api, runtime, peer = k
    ok = all(r["ok"] == r["n"] for r in rs)
    n = int(rs[0]["n"])
    print(f"| {w} | {api} | {runtime} | {peer} | {len(rs)} | {'yes' if ok else 'NO'} {rs[0]['ok']}/{n} | {med(rs, 'wall_s'):.3f} | "
          f"{med(rs, 'ops_per_s'):.0f} | {med(rs, 'cpu_s'):.3f} | {1000 * med(rs, 'cpu_s') / n:.3f} | "
          f"{med(rs, 'peak_rss_mb'):.1f} | {rs[0].get('mock_reqs', '-')} | {notes(w, rs)} |")

print("\n## Weft against each peer (same run)\n")
print("| workload | api | Weft's runtime | peer | Weft throughput / peer | Weft CPU / peer CPU | Weft peak RSS / peer |")
print("|---|---|---|---|---|---|---|")
for (w, api, runtime, _) in [k for k in keys if k[3] == "weft"]:
    # the Rust peers on the same runtime, then the Python peers
    for (pw, papi, pruntime, peer) in keys:
        if (pw, papi) != (w, api) or peer == "weft" or pruntime not in (runtime, "asyncio"):
            continue
        me, them = rows[(w, api, runtime, "weft")], rows[(w, api, pruntime, peer)]
        print(f"| {w} | {api} | {runtime} | {peer} | {ratio(med(me, 'ops_per_s'), med(them, 'ops_per_s'), '{:.2f}')} | "
              f"{ratio(med(me, 'cpu_s'), med(them, 'cpu_s'), '{:.3f}')} | "
              f"{ratio(med(me, 'peak_rss_mb'), med(them, 'peak_rss_mb'), '{:.2f}')} |")

otel = sorted(k for k in rows if k[0] == "W1-otel" and k[3] == "weft")
if otel:
    print("\n## W1 with OTLP export on (W1-otel) against off (W1), same run\n")
    print("| api | runs | CPU s off | CPU s on | CPU on / off | user s off / on | sys s off / on | wall s off / on | CPU on / off, run by run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (_, api, runtime, _) in otel:
        on, off = rows[("W1-otel", api, runtime, "weft")], rows.get(("W1", api, runtime, "weft"), [])
        if not off:
            continue
        pairs = ", ".join(f"{float(a['cpu_s']) / float(b['cpu_s']):.2f}" for a, b in zip(on, off) if float(b["cpu_s"]) > 0)
        print(f"| {api} | {len(on)} | {med(off, 'cpu_s'):.3f} | {med(on, 'cpu_s'):.3f} | "
              f"{ratio(med(on, 'cpu_s'), med(off, 'cpu_s'), '{:.3f}')} | "
              f"{med(off, 'user_s'):.3f} / {med(on, 'user_s'):.3f} | {med(off, 'sys_s'):.3f} / {med(on, 'sys_s'):.3f} | "
              f"{med(off, 'wall_s'):.3f} / {med(on, 'wall_s'):.3f} | {pairs} |")

print("\n<!-- end of bench/run.sh output -->")
