#!/usr/bin/env bash
# Persona load test: gunicorn (the project's gunicorn_conf) on a seeded PostgreSQL database,
# locust headless (bench/locust/locustfile.py); prints failures, aggregated p95 and load average.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/centre ONCOTRIALS_SECRET_KEY=... \
#   ONCOTRIALS_AUDIT_KEY=... bench/load.sh [USERS=50] [DURATION=120s] [SPAWN_RATE=5]
#
# Seed the database first: `oncotrials migrate && oncotrials seed --size centre-10y`.
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-50}"
duration="${2:-120s}"
rate="${3:-5}"
port="${LOAD_PORT:-8765}"
bin="$(dirname "$(command -v python || echo .venv/bin/python)")"
[ -x .venv/bin/gunicorn ] && bin=.venv/bin
: "${DATABASE_URL:?DATABASE_URL must name the seeded PostgreSQL database}"
out="$(mktemp -d)"

export ONCOTRIALS_HTTPS=0  # plain HTTP on 127.0.0.1: no secure-cookie redirect
export ONCOTRIALS_GUNICORN_BIND="127.0.0.1:${port}"
"$bin/gunicorn" -c python:oncotrials.web.gunicorn_conf oncotrials.web.wsgi:application \
  >"$out/gunicorn.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:${port}/healthz?ready=1" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:${port}/healthz?ready=1" >/dev/null || {
  echo "server did not become ready:"; tail -20 "$out/gunicorn.log"; exit 1; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
cpu_before="$(ps -o cputimes= -p "$server" --ppid "$server" | awk '{s+=$1} END {print s+0}')"
"$bin/locust" -f bench/locust/locustfile.py --headless -u "$users" -r "$rate" -t "$duration" \
  --host "http://127.0.0.1:${port}" --csv "$out/load" --only-summary --reset-stats >"$out/locust.log" 2>&1 || true
cpu_after="$(ps -o cputimes= -p "$server" --ppid "$server" | awk '{s+=$1} END {print s+0}')"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python - "$out/load_stats.csv" "$users" "$duration" "$load_before" "$load_after" \
  "$cpu_before" "$cpu_after" <<'PY'
import csv, sys
path, users, duration, lb, la, c0, c1 = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
agg = next(r for r in rows if r["Name"] == "Aggregated")
print(f"{'request':32} {'n':>7} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
for r in rows:
    print(f"{r['Name'][:32]:32} {r['Request Count']:>7} {r['Failure Count']:>5} "
          f"{r['50%']:>6} {r['95%']:>6} {r['99%']:>6}")
n, fails = int(agg["Request Count"]), int(agg["Failure Count"])
cpu = float(c1) - float(c0)
print(f"\n{users} users, {duration}: {n} requests, {fails} failed, aggregated p95 {agg['95%']} ms, "
      f"{float(agg['Requests/s']):.1f} req/s; server CPU {cpu:.0f} s "
      f"({1000 * cpu / max(n, 1):.0f} ms per request); load average {lb} -> {la}")
PY
grep -iE "error|exception" "$out/locust.log" | head -5 || true
echo "CSV and logs: $out"
