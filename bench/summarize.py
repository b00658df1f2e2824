"""Medians of bench/run.sh's RESULT lines, with Weft/peer ratios, as Markdown (BENCHMARKS.md).

    python3 bench/summarize.py results.txt machine.txt [shared RESULTS.md] > BENCHMARKS.md
"""
import statistics
import sys
from collections import defaultdict

rows = defaultdict(list)
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        kv = dict(f.split("=", 1) for f in line.split()[1:])
        rows[(kv["workload"], kv["api"], kv["peer"])].append(kv)
machine = open(sys.argv[2]).read().strip() if len(sys.argv) > 2 else ""


def med(rs, key):
    vals = [float(r[key]) for r in rs if key in r]
    return statistics.median(vals) if vals else float("nan")


order = {"weft": 0, "floor-rust": 1, "rig": 2, "maf-python": 3}
keys = sorted(rows, key=lambda k: (k[0], k[1], order.get(k[2], 9)))
print("# Benchmarks\n")
print("Produced by `bench/run.sh` (workloads: `../shared/bench/WORKLOADS.md`; mock: `../shared/bench/mockllm`).")
print("Medians over runs; CPU is the client's own CPU in the timed region (getrusage).\n")
print("```\n" + machine + "\n```\n")
print("| workload | api | peer | runs | ok (all runs) | wall s | ops/s | CPU s (region) | CPU ms per item | peak RSS MB | mock reqs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for k in keys:
    rs = rows[k]
    w, api, peer = k
    ok = all(r["ok"] == r["n"] for r in rs)
    n = int(rs[0]["n"])
    print(f"| {w} | {api} | {peer} | {len(rs)} | {'yes' if ok else 'NO'} {rs[0]['ok']}/{n} | {med(rs, 'wall_s'):.3f} | "
          f"{med(rs, 'ops_per_s'):.0f} | {med(rs, 'cpu_s'):.3f} | {1000 * med(rs, 'cpu_s') / n:.3f} | "
          f"{med(rs, 'peak_rss_mb'):.1f} | {rs[0].get('mock_reqs', '-')} |")

print("\n## Weft against each peer (same run)\n")
print("| workload | api | peer | Weft throughput / peer | Weft CPU / peer CPU | Weft peak RSS / peer |")
print("|---|---|---|---|---|---|")
for (w, api, peer) in keys:
    if peer == "weft" or (w, api, "weft") not in rows:
        continue
    me, them = rows[(w, api, "weft")], rows[(w, api, peer)]
    print(f"| {w} | {api} | {peer} | {med(me, 'ops_per_s') / med(them, 'ops_per_s'):.2f}x | "
          f"{med(me, 'cpu_s') / med(them, 'cpu_s'):.3f}x | {med(me, 'peak_rss_mb') / med(them, 'peak_rss_mb'):.2f}x |")
