#!/usr/bin/env python3
"""Summarizes bench/w9.sh's results.txt as markdown: medians over rounds of each row (runner,
flow, workers, concurrency), the cost of durability per step, and the per-worker split."""
import statistics
import sys
from collections import defaultdict


def fields(line):
    return dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)


def main(results, machine):
    rows = defaultdict(list)
    evidence = []
    with open(results) as f:
        for line in f:
            if line.startswith("RESULT "):
                r = fields(line)
                key = (r["workload"], r["api"], int(r["workers"]), int(r["concurrency"]))
                rows[key].append(r)
            elif line.startswith(("CONNECTIONS ", "INVOCATIONS ")):
                evidence.append(line.strip())
    med = lambda rs, k: statistics.median(float(r[k]) for r in rs if k in r)
    print("# W9 summary\n")
    with open(machine) as f:
        for line in f:
            print(f"- {line.strip()}")
    print()
    print("| workflow | runner | workers | concurrency | ok | runs/s | p50 ms | p99 ms | mean ms | "
          "CPU µs/step (server + workers) | server | workers | worker CPU s split | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted(rows, key=lambda k: (k[0], k[1] != "local", k[2], k[3])):
        workload, api, workers, conc = key
        rs = rows[key]
        ok = f"{sum(int(r['ok']) for r in rs)}/{sum(int(r['n']) for r in rs)}"
        loads = "-".join(sorted({r.get("load", "?") for r in rs}))
        if api == "local":
            print(f"| {workload} | local | - | {conc} | {ok} | {med(rs, 'ops_per_s'):.0f} | "
                  f"{med(rs, 'p50_ms'):.4f} | {med(rs, 'p99_ms'):.4f} | {med(rs, 'mean_ms'):.4f} | "
                  f"{med(rs, 'cpu_per_step_us'):.2f} (in process) | - | - | - | {loads} |")
        else:
            split = "; ".join(r.get("worker_cpu_split", "") for r in rs)
            print(f"| {workload} | restate | {workers} | {conc} | {ok} | {med(rs, 'ops_per_s'):.1f} | "
                  f"{med(rs, 'p50_ms'):.2f} | {med(rs, 'p99_ms'):.2f} | {med(rs, 'mean_ms'):.2f} | "
                  f"{med(rs, 'cpu_per_step_us'):.0f} | {med(rs, 'server_cpu_per_step_us'):.0f} | "
                  f"{med(rs, 'workers_cpu_per_step_us'):.0f} | {split} | {loads} |")
    print()
    print("Cost of durability per step ((Restate − local) / executor invocations of a run, medians):\n")
    print("| workflow | workers | concurrency | latency per step (mean) µs | latency per step (p50) µs | CPU per step µs |")
    print("|---|---|---|---|---|---|")
    for (workload, api, workers, conc), rs in sorted(rows.items()):
        if api != "restate":
            continue
        local = rows.get((workload, "local", 0, conc))
        if not local:
            continue
        steps = float(rs[0]["invocations_per_run"])
        mean = (med(rs, "mean_ms") - med(local, "mean_ms")) / steps * 1000
        p50 = (med(rs, "p50_ms") - med(local, "p50_ms")) / steps * 1000
        cpu = med(rs, "cpu_per_step_us") - med(local, "cpu_per_step_us")
        print(f"| {workload} | {workers} | {conc} | {mean:.0f} | {p50:.0f} | {cpu:.0f} |")
    print()
    print("Per-worker load split (established connections to the workers' port after each row, by pid; "
          "executor invocations each worker ran, warm-up included, printed at its exit):\n")
    for line in evidence:
        print(f"- `{line}`")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
