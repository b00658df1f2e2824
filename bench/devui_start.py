"""How long `weft devui` takes from exec to usable: the page and the model list both answered.

    python3 bench/devui_start.py PATH/TO/weft

Starts `weft devui --no-open` 20 times on free loopback ports, polls every millisecond, and prints
the median, min and max. Build the binary in release first (scripts/static-build.sh, or
`cargo build --release -p weft-cli`).
"""
import subprocess, time, socket, sys, urllib.request, statistics
binary = sys.argv[1]
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
times = []
for i in range(20):
    port = free()
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "devui", "--no-open", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1).read()
            break
        except Exception:
            time.sleep(0.001)
    times.append((time.perf_counter() - t0) * 1000)
    proc.terminate(); proc.wait()
times.sort()
print(f"median {statistics.median(times):.1f} ms, min {times[0]:.1f}, max {times[-1]:.1f} (n={len(times)})")
