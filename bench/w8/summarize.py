"""Medians of W8's RESULT lines (bench/w8.sh), as a Markdown table with Weft / MAF ratios."""

import statistics
import sys
from collections import defaultdict


def main() -> None:
    rows: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with open(sys.argv[1]) as results:
        for line in results:
            if not line.startswith("RESULT "):
                continue
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            rows[(fields["workload"], fields["peer"])].append(fields)

    def median(workload: str, peer: str, key: str) -> float | None:
        values = [float(r[key]) for r in rows.get((workload, peer), []) if key in r]
        return statistics.median(values) if values else None

    def fmt(value: float | None, digits: int = 1) -> str:
        return "–" if value is None else f"{value:,.{digits}f}"

    peers = sorted({p for _, p in rows}, key=lambda p: (p != "weft", p))
    workloads = sorted({w for w, _ in rows}, key=lambda w: (not w.startswith("W8-c"), len(w), w))
    print("| workload | server | runs | ok/n | req/s | TTFE p50 ms | TTFE p99 ms | server CPU ms/req | server peak RSS MiB | other |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for w in workloads:
        for p in peers:
            runs = rows.get((w, p))
            if not runs:
                continue
            last = runs[-1]
            other = " ".join(
                f"{k}={last[k]}"
                for k in ("open_at_once", "server_rss_open_mb", "opened", "server_rss_idle_mb", "errors", "done")
                if k in last
            )
            if last.get("deadline_hit") == "1":
                other += " (stopped at the deadline)"
            print(
                f"| {w} | {p} | {len(runs)} | {last['ok']}/{last['n']} | {fmt(median(w, p, 'ops_per_s'))} "
                f"| {fmt(median(w, p, 'ttfe_p50_ms'), 2)} | {fmt(median(w, p, 'ttfe_p99_ms'), 2)} "
                f"| {fmt(median(w, p, 'server_cpu_ms_per_req'), 3)} | {fmt(median(w, p, 'server_peak_rss_mb'))} | {other} |"
            )
    print()
    for w in workloads:
        weft, maf = median(w, "weft", "ops_per_s"), median(w, "maf-devui", "ops_per_s")
        if weft and maf:
            print(f"- {w}: Weft serves {weft / maf:.1f}x MAF DevUI's requests/s.")


if __name__ == "__main__":
    main()
