#!/usr/bin/env bash
# The scrape lane: the Prometheus exporter read by the real tools.
#  1. builds the `scrape` preset (g++ Release): examples/metrics_server and the exporter's
#     unit tests, and runs the tests;
#  2. starts metrics_server on 127.0.0.1, port 0 (a free port), emitting SCRAPE_EMITS
#     events on each signal (default 200), and fetches /metrics;
#  3. `promtool check metrics` on the page: any finding, lint included, fails the lane;
#  4. starts a Prometheus server (scrape interval 1 s, its TSDB in a temporary directory, on
#     a free port), waits for it to scrape the example, and queries its HTTP API: the
#     counters must equal what the example emitted, and the median latency of orders/book
#     (which spins 300 us per call) must lie in the power-of-two bucket of 300 us,
#     [2^18, 2^19] ns.
# Both processes are stopped and the temporary directory removed on any exit; every wait has
# a timeout. Needs prometheus-cpp-dev and prometheus (ci/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

emits=${SCRAPE_EMITS:-200}
((emits > 0 && emits % 10 == 0)) || { echo "scrape: SCRAPE_EMITS must be a positive multiple of 10" >&2; exit 1; }
for tool in prometheus promtool python3; do
  command -v "$tool" >/dev/null || { echo "scrape: $tool is missing (ci/setup.sh installs it)" >&2; exit 1; }
done

cmake --preset scrape >/dev/null
cmake --build --preset scrape
build/scrape/exporters/prometheus/tests/prometheus_test --gtest_brief=1

tmp=$(mktemp -d /tmp/sigs-scrape.XXXXXX)
server_pid="" prom_pid=""
stop() {  # stop <pid>: TERM, then KILL after 5 s
  local pid=$1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop "$prom_pid"
  stop "$server_pid"
  if ((rc != 0)); then
    for log in "$tmp"/*.log; do
      [[ -s "$log" ]] && { echo "--- $(basename "$log") (last lines) ---"; tail -20 "$log"; }
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# http_get <url> <output file>: one GET with a 10 s timeout; fails on a non-2xx answer.
http_get() {
  python3 - "$1" "$2" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r, open(sys.argv[2], "wb") as out:
    out.write(r.read())
EOF
}

# wait_for <seconds> <pid> <command...>: runs the command every 0.2 s until it succeeds;
# fails after <seconds>, or at once if process <pid> has exited.
wait_for() {
  local deadline=$(($(date +%s) + $1)) pid=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || return 1
    (($(date +%s) < deadline)) || return 1
    sleep 0.2
  done
}

# --- the example -------------------------------------------------------------------------
# timeout: the example and Prometheus die on their own should this script be killed.
timeout 300 build/scrape/examples/metrics_server 127.0.0.1:0 --emits "$emits" \
  --port-file "$tmp/port" --seconds 240 >"$tmp/metrics_server.log" 2>&1 &
server_pid=$!
wait_for 60 "$server_pid" test -s "$tmp/port" || { echo "scrape: metrics_server wrote no port (exited, or 60 s passed)" >&2; exit 1; }
port=$(<"$tmp/port")
target="127.0.0.1:${port}"
cat "$tmp/metrics_server.log"

http_get "http://${target}/metrics" "$tmp/metrics.txt"
echo "scrape: fetched http://${target}/metrics: $(grep -c '^sigs_' "$tmp/metrics.txt") sigs_ samples"
if ! promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.log" 2>&1 || [[ -s "$tmp/promtool.log" ]]; then
  cat "$tmp/promtool.log"
  echo "scrape: promtool check metrics found problems" >&2
  exit 1
fi
echo "scrape: promtool check metrics: no problems"

# --- the Prometheus server ---------------------------------------------------------------
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sigs
    static_configs:
      - targets: ['${target}']
EOF
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A port found free may be taken before Prometheus binds it: try again on another one.
prom=""
for attempt in 1 2 3; do
  prom_port=$(free_port)
  prom="http://127.0.0.1:${prom_port}"
  rm -rf "$tmp/data"
  timeout 240 prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:${prom_port}" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
  prom_pid=$!
  if wait_for 60 "$prom_pid" http_get "${prom}/-/ready" /dev/null; then break; fi
  echo "scrape: Prometheus did not start on port ${prom_port} (attempt ${attempt})" >&2
  stop "$prom_pid"
  prom_pid=""
  ((attempt < 3)) || exit 1
done
echo "scrape: Prometheus ready at ${prom}, scraping ${target} every 1 s"

# --- read back and check -----------------------------------------------------------------
PROM="$prom" EMITS="$emits" timeout 120 python3 - <<'EOF'
import json, os, sys, time, urllib.parse, urllib.request

prom, n = os.environ["PROM"], int(os.environ["EMITS"])

def query(expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]

# Wait for a scrape that has every series, with the final values.
deadline = time.monotonic() + 60
while True:
    up = query('up{job="sigs"}')
    emitted = query('sigs_emits_total{signal="orders"}')
    if up and up[0]["value"][1] == "1" and emitted and float(emitted[0]["value"][1]) == n:
        break
    if time.monotonic() > deadline:
        sys.exit(f"scrape: no complete scrape in 60 s (up: {up}, orders emits: {emitted})")
    time.sleep(0.5)

failures = []
def check(expr, want=None, low=None, high=None):
    result = query(expr)
    if len(result) != 1:
        failures.append(f"{expr}: {len(result)} series, want 1")
        print(f"  {expr} -> {len(result)} series")
        return
    value = float(result[0]["value"][1])
    print(f"  {expr} = {value:g}")
    if want is not None and value != want:
        failures.append(f"{expr} = {value:g}, want {want:g}")
    if low is not None and not low <= value <= high:
        failures.append(f"{expr} = {value:g}, want it in [{low:g}, {high:g}]")

print(f"scrape: read back from Prometheus (the example emitted {n} events per signal):")
check('up{job="sigs"}', 1)
for signal in ("orders", "payments", "notifications"):
    check(f'sigs_emits_total{{signal="{signal}"}}', n)
check('sigs_listener_calls_total{signal="orders",listener="book"}', n)
check('sigs_listener_calls_total{signal="orders",listener=""}', n)
check('sigs_listener_errors_total{signal="payments",listener="charge"}', n // 10)
check('sigs_errors_total{signal="payments"}', n // 10)
check('sigs_delivered_total{signal="notifications"}', 2 * n)
check('sum(sigs_dropped_total{signal="notifications"})', 0)
check('sigs_in_flight{signal="notifications"}', 0)
check('sigs_listener_latency_seconds_count{signal="orders",listener="book"}', n)
check('sigs_listener_latency_seconds_sum{signal="orders",listener="book"}', low=n * 300e-6, high=float("inf"))
check('histogram_quantile(0.5, sigs_listener_latency_seconds_bucket{signal="orders",listener="book"})',
      low=2**18 * 1e-9, high=2**19 * 1e-9)
check('sigs_pool_threads{pool="io"}', 2)
check('sigs_pool_tasks_completed_total{pool="io"} - sigs_pool_tasks_submitted_total{pool="io"}', 0)
check('sigs_metrics_folded_total', 0)
if failures:
    print("scrape: FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("scrape: every value read back matches what the example emitted")
EOF
