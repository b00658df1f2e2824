#!/usr/bin/env bash
# Weft's benchmark, side by side with the peers of ../shared/bench (WORKLOADS.md W1-W7): builds and
# starts the mock OpenAI server (and, for W6/W7, the MCP echo server over streamable HTTP), runs
# Weft and each available peer in alternation, RUNS times each, under /usr/bin/time -v, and
# writes medians with Weft/peer ratios to $OUT/summary.md (and BENCHMARKS.md, see PUBLISH).
#
#   bench/run.sh                                  # everything (W7-stdio alone is ~3 min a process)
#   RUNS=1 ONLY="W1 W2" bench/run.sh              # a quick look
#   RUNS=1 ONLY="W6 W7" PEERS="weft maf-python" OUT=/tmp/bench-w67 bench/run.sh
#   RUNS=1 ONLY=W8 bench/run.sh                    # bench/w8.sh: weft serve vs MAF's DevUI server
#   RUNS=5 ONLY=W1-otel bench/run.sh               # Weft's W1 with OTLP export off and on, alternating
#   RUNS=1 ONLY="W1 W3" RUNTIMES=current PEERS="weft floor-rust" bench/run.sh
#
# Env: RUNS (3), PORT (8089), MCP_PORT (8090), OTLP_PORT (8091), ONLY (workloads; W5 includes
#      LangGraph's W5-chain-ckpt, W6 = W6-stdio W6-http, W7 = W7-http W7-stdio, W1-otel = Weft's
#      W1 without export and with OTLP/HTTP export to bench/otlp_sink.py, a receiver in its own
#      process, in alternation), APIS ("chat responses"),
#      PEERS ("weft floor-rust rig maf-python langgraph openai-agents pydantic-ai"; a peer whose
#      build or venv is missing is skipped with a message),
#      VENV (/tmp/bench-venv: the incumbent, maf-python; its python also runs the MCP echo
#      server, stdio and HTTP, for every peer), VENV_LANGGRAPH (/tmp/bench-venv-langgraph),
#      VENV_OPENAI_AGENTS (/tmp/bench-venv-openai-agents), VENV_PYDANTIC_AI
#      (/tmp/bench-venv-pydantic-ai), MCP_PYTHON ($VENV/bin/python),
#      OUT (bench/results/<timestamp>), SHARED (../shared),
#      RUNTIMES ("multi current"): the Rust processes (weft, floor-rust, rig) run on tokio's
#      multi-thread runtime and again on its current-thread runtime (WEFT_THREADS=1,
#      FLOOR_THREADS=1, RIG_THREADS=1); the Python peers (one asyncio event loop either way) run
#      in the multi round only, and the current round covers W1-W4 and W6 (Weft alone on W6),
#      so each RESULT line says runtime=multi|current|asyncio,
#      W7_STDIO_RUNS (RUNS): rounds that run W7-stdio (its 200 cycles wait on Python start-up),
#      PUBLISH (1 when OUT is not given and ONLY has no W1-otel, else 0): 1 puts the summary at
#      the top of BENCHMARKS.md, in place of the previous one (the hand-written sections after
#      its end marker stay).
# The Python peers' environments, once each (versions of ../shared/bench/RESULTS.md):
#   python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install agent-framework-core agent-framework-openai mcp "tenacity>=9.1.4,<9.2.0"
#   python3 -m venv /tmp/bench-venv-langgraph && /tmp/bench-venv-langgraph/bin/pip install langgraph langchain-openai
#   python3 -m venv /tmp/bench-venv-openai-agents && /tmp/bench-venv-openai-agents/bin/pip install openai-agents
#   python3 -m venv /tmp/bench-venv-pydantic-ai && /tmp/bench-venv-pydantic-ai/bin/pip install "pydantic-ai-slim[openai]"
# Which peer runs what: W1-W4 every peer; W5 weft, maf-python, langgraph (+ its W5-chain-ckpt);
# W6/W7 weft and maf-python (no other peer has MCP workloads); M-sessions weft only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
BENCH=$SHARED/bench
RUNS=${RUNS:-3}
PORT=${PORT:-8089}
MCP_PORT=${MCP_PORT:-8090}
OTLP_PORT=${OTLP_PORT:-8091}
APIS=${APIS:-"chat responses"}
VENV=${VENV:-/tmp/bench-venv}
VENV_LANGGRAPH=${VENV_LANGGRAPH:-/tmp/bench-venv-langgraph}
VENV_OPENAI_AGENTS=${VENV_OPENAI_AGENTS:-/tmp/bench-venv-openai-agents}
VENV_PYDANTIC_AI=${VENV_PYDANTIC_AI:-/tmp/bench-venv-pydantic-ai}
PEERS=${PEERS:-"weft floor-rust rig maf-python langgraph openai-agents pydantic-ai"}
RUNTIMES=${RUNTIMES:-"multi current"}
# W1-otel alone is not a whole benchmark: BENCHMARKS.md is left alone unless PUBLISH=1.
case " ${ONLY:-} " in *" W1-otel "*) PUBLISH=${PUBLISH:-0} ;; esac
if [ -z "${OUT:-}" ]; then
  OUT=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S) PUBLISH=${PUBLISH:-1}
else
  PUBLISH=${PUBLISH:-0}
fi
# W5 also selects LangGraph's checkpointed chain; W6 and W7 stand for both transports.
W8=
case " ${ONLY:-} " in *" W8 "*) W8=1 ;; esac
WORKLOADS=$(for w in ${ONLY:-W1 W2 W3 W4 W5 W6 W7 M-sessions}; do
  case $w in
    W5) echo W5 W5-chain-ckpt ;;
    W6) echo W6-stdio W6-http ;;
    W7) echo W7-http W7-stdio ;;
    W8) ;;   # bench/w8.sh, run after the others
    *) echo "$w" ;;
  esac
done | xargs)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
PEER_TARGET=$HOME/.cache/weft/bench-peers
mkdir -p "$OUT"
: >>"$OUT/results.txt"
export MOCK_URL="http://127.0.0.1:$PORT"
export MCP_HTTP_URL="http://127.0.0.1:$MCP_PORT/mcp"
export MCP_PYTHON=${MCP_PYTHON:-$VENV/bin/python}
export MCP_ECHO_SERVER=$BENCH/tools/mcp_echo_server.py

echo "== build" >&2
(cd "$ROOT" && cargo build -q --release -p weft-bench)
CARGO_TARGET_DIR=$HOME/.cache/weft/bench-target cargo build -q --release --locked --manifest-path "$BENCH/mockllm/Cargo.toml"
declare -A BIN=([weft]="$CARGO_TARGET_DIR/release/weft-bench")
BIN[mockllm]=$HOME/.cache/weft/bench-target/release/mockllm
declare -A PYPEER=(
  [maf-python]="$VENV/bin/python $BENCH/peers/maf-python/bench_maf.py"
  [langgraph]="$VENV_LANGGRAPH/bin/python $BENCH/peers/langgraph/bench_langgraph.py"
  [openai-agents]="$VENV_OPENAI_AGENTS/bin/python $BENCH/peers/openai-agents/bench_openai_agents.py"
  [pydantic-ai]="$VENV_PYDANTIC_AI/bin/python $BENCH/peers/pydantic-ai/bench_pydantic_ai.py"
)
available=()
for peer in $PEERS; do
  case $peer in
    weft) available+=(weft) ;;
    floor-rust | rig)
      bin=$([ "$peer" = rig ] && echo rig-bench || echo floor-rust)
      if CARGO_TARGET_DIR=$PEER_TARGET/$peer cargo build -q --release --locked --manifest-path "$BENCH/peers/$peer/Cargo.toml" 2>"$OUT/build-$peer.log"; then
        BIN[$peer]=$PEER_TARGET/$peer/release/$bin; available+=("$peer")
      else echo "   $peer did not build (see $OUT/build-$peer.log); skipped" >&2; fi ;;
    maf-python | langgraph | openai-agents | pydantic-ai)
      python=${PYPEER[$peer]%% *}
      if [ -x "$python" ]; then available+=("$peer")
      else echo "   $peer skipped: no $python (see the one-liners at the top of this script)" >&2; fi ;;
    *) echo "   unknown peer $peer; skipped" >&2 ;;
  esac
done
has() { [[ " ${available[*]} " == *" $1 "* ]]; }

"${BIN[mockllm]}" --port "$PORT" >"$OUT/mockllm.log" 2>&1 &
MOCK_PID=$!
MCP_PID=
OTLP_PID=
cleanup() {
  kill "$MOCK_PID" 2>/dev/null || true
  if [ -n "$MCP_PID" ]; then kill "$MCP_PID" 2>/dev/null || true; fi
  if [ -n "$OTLP_PID" ]; then kill "$OTLP_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "$MOCK_URL/health" >/dev/null && break; sleep 0.1; done

# W6/W7 need the MCP echo server: the same script on stdio (launched by each peer) and, started
# here, over streamable HTTP (as ../shared/bench/run.sh starts it).
MCP_OK=
if [[ " $WORKLOADS " == *" W6-"* || " $WORKLOADS " == *" W7-"* ]]; then
  if [ -x "$MCP_PYTHON" ]; then
    "$MCP_PYTHON" "$MCP_ECHO_SERVER" http "$MCP_PORT" >"$OUT/mcp-http.log" 2>&1 &
    MCP_PID=$!
    for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$MCP_PORT") 2>/dev/null && MCP_OK=1 && break; sleep 0.1; done
    [ -n "$MCP_OK" ] || echo "   the MCP echo server did not listen on $MCP_PORT (see $OUT/mcp-http.log); W6/W7 skipped" >&2
  else
    echo "   W6/W7 skipped: no $MCP_PYTHON for the MCP echo server (see the maf-python one-liner above)" >&2
  fi
fi

# W1-otel exports to an OTLP/HTTP receiver in its own process (its CPU is not the client's).
OTLP_URL="http://127.0.0.1:$OTLP_PORT"
if [[ " $WORKLOADS " == *" W1-otel "* ]]; then
  python3 "$ROOT/bench/otlp_sink.py" "$OTLP_PORT" >"$OUT/otlp-sink.log" 2>&1 &
  OTLP_PID=$!
  for _ in $(seq 100); do curl -sf "$OTLP_URL/stats" >/dev/null && break; sleep 0.1; done
fi

{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "mem: $(free -g | awk '/Mem:/{print $2" GiB"}')"
  echo "kernel: $(uname -r)"
  echo "rustc: $(rustc --version)"
  echo "weft: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  grep -A1 -E '^name = "(tokio|reqwest|hyper|rmcp)"$' "$ROOT/Cargo.lock" | paste - - - | sed -E 's/name = "([^"]+)".*version = "([^"]+)".*/crate (weft): \1 \2/'
  [ -x "$VENV/bin/python" ] && "$VENV/bin/pip" list 2>/dev/null | grep -iE '^(agent-framework-core|agent-framework-openai|openai|mcp) ' | sed 's/^/pip: /'
  for peer in langgraph openai-agents pydantic-ai; do
    has "$peer" || continue
    venv=$(dirname "$(dirname "${PYPEER[$peer]%% *}")")
    "$venv/bin/pip" list 2>/dev/null |
      grep -iE '^(langgraph|langchain-openai|openai-agents|pydantic-ai-slim|openai) ' | sed "s/^/pip ($peer): /"
  done
  true
} >"$OUT/machine.txt"

cmd_for() {
  local peer=$1 w=$2 api=$3
  case $peer in
    maf-python | langgraph | openai-agents | pydantic-ai) printf '%s' "${PYPEER[$peer]} $w" ;;
    # W1-otel: "weft" runs W1 (no export), "weft-otel" W1 exporting to the sink.
    weft-otel) printf '%s' "env OTEL_EXPORTER_OTLP_ENDPOINT=$OTLP_URL ${BIN[weft]} W1-otel" ;;
    weft) printf '%s' "${BIN[weft]} ${w%-otel}" ;;
    *) printf '%s' "${BIN[$peer]} $w" ;;
  esac
  if [ "$api" = chat ] || [ "$api" = responses ]; then printf ' --api %s' "$api"; fi
}

# The runtime of a Rust process: the peers' own switches (every Rust peer reads its variable).
runtime_env() {
  if [ "$1" = current ]; then printf 'env WEFT_THREADS=1 FLOOR_THREADS=1 RIG_THREADS=1 '; fi
}

for r in $(seq "$RUNS"); do
  for rt in $RUNTIMES; do
  for w in $WORKLOADS; do
    case $w in
      # M-sessions (memory of 10,000 idle sessions) is Weft's own measurement: no API, no peer.
      M-sessions) apis=none peers=(weft) ;;
      # Weft alone, export off and on in alternation.
      W1-otel) apis=$APIS peers=(weft weft-otel) ;;
      # Workflows, no model: rig, the floor and the agent-only peers have none.
      W5) apis=none peers=(weft); for p in maf-python langgraph; do has "$p" && peers+=("$p"); done ;;
      W5-chain-ckpt) apis=none peers=(); has langgraph && peers+=(langgraph) ;;
      # MCP: Weft and the incumbent (the RESULT lines say api=mcp).
      W6-* | W7-*)
        apis=mcp peers=()
        if [ -n "$MCP_OK" ]; then for p in weft maf-python; do has "$p" && peers+=("$p"); done; fi ;;
      *) apis=$APIS peers=("${available[@]}") ;;
    esac
    # W7-stdio is bound by the echo server's Python start-up (about 1.5 s a cycle, 200 cycles a
    # run): W7_STDIO_RUNS may run it in fewer rounds than the others (its runs column says so).
    if [ "$w" = W7-stdio ] && [ "$r" -gt "${W7_STDIO_RUNS:-$RUNS}" ]; then continue; fi
    if [ "$rt" = current ]; then
      # The second runtime: the Rust processes only, on the workloads the issue compares.
      case $w in W1 | W2 | W3 | W4 | W6-*) ;; *) continue ;; esac
      rust=(); for p in "${peers[@]}"; do case $p in weft | floor-rust | rig) rust+=("$p") ;; esac; done
      peers=("${rust[@]}")
    fi
    [ "${#peers[@]}" -gt 0 ] || continue
    for api in $apis; do
      for peer in "${peers[@]}"; do   # peers alternate within each round
        case $peer in weft | weft-otel | floor-rust | rig) label=$rt ;; *) label=asyncio ;; esac
        base="$OUT/$peer.$w-$api.$label.$r"
        echo "-- run $r $w $api $peer ($label)" >&2
        # shellcheck disable=SC2046
        /usr/bin/time -v -o "$base.time" $(runtime_env "$label") $(cmd_for "$peer" "$w" "$api") >"$base.out" 2>"$base.err" ||
          echo "   FAILED, see $base.err" >&2
        tf=$(awk -F': ' '/Maximum resident/ { m=$2/1024 } /User time/ { u=$2 } /System time/ { y=$2 }
          END { printf "proc_user_s=%.2f proc_sys_s=%.2f proc_maxrss_mb=%.1f", u, y, m }' "$base.time")
        grep '^RESULT ' "$base.out" | sed "s/\$/ run=$r runtime=$label stderr_lines=$(wc -l <"$base.err") $tf/" >>"$OUT/results.txt" || true
        grep '^RESULT ' "$base.out" | sed 's/^/   /' >&2 || true
      done
    done
  done
  done
done

# W8 (a served agent under load) has its own script: it starts each server in turn.
if [ -n "$W8" ]; then
  PORT=$((PORT + 100)) OUT="$OUT/w8" RUNS="$RUNS" SHARED="$SHARED" bash "$ROOT/bench/w8.sh" >&2 ||
    echo "   W8 FAILED, see $OUT/w8" >&2
fi
if [ -n "$OTLP_PID" ]; then echo "otlp sink: $(curl -sf "$OTLP_URL/stats")" >>"$OUT/machine.txt"; fi
if [ -z "$WORKLOADS" ]; then   # W8 alone: its summary is $OUT/w8/summary.md; BENCHMARKS.md is left alone
  echo "results in $OUT/w8" >&2
  exit 0
fi

python3 "$ROOT/bench/summarize.py" "$OUT/results.txt" "$OUT/machine.txt" "$SHARED/bench/RESULTS.md" >"$OUT/summary.md"
cat "$OUT/summary.md"
if [ "$PUBLISH" = 1 ]; then
  # The summary replaces the previous one; what follows its end marker (hand-written sections:
  # W8, profiles, where the time goes) is kept.
  marker='<!-- end of bench/run.sh output -->'
  { cat "$OUT/summary.md"
    if [ -f "$ROOT/BENCHMARKS.md" ] && grep -qF "$marker" "$ROOT/BENCHMARKS.md"; then
      # (awk, not sed: the marker has a '/' in it)
      awk -v marker="$marker" 'kept { print } $0 == marker { kept = 1 }' "$ROOT/BENCHMARKS.md"
    fi
  } >"$OUT/BENCHMARKS.md"
  cp "$OUT/BENCHMARKS.md" "$ROOT/BENCHMARKS.md"
  echo "results in $OUT; table in BENCHMARKS.md" >&2
else
  echo "results in $OUT (BENCHMARKS.md left alone: PUBLISH=$PUBLISH)" >&2
fi
