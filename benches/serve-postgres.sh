#!/usr/bin/env bash
# Load on `flowc serve` over PostgreSQL (benches/README.md, "The service"): for each round, for
# each server binary given, one server and then two servers sharing the database; a fresh
# database for every run. Prints one line per run: round, binary, servers, the load's line.
#
#   benches/serve-postgres.sh ROUNDS SECONDS CLIENTS LOAD BINARY [BINARY…]
#
# LOAD is the load generator (target/release/examples/load); each BINARY a flowc-serve build.
# A throwaway PostgreSQL cluster (.ci/postgres) serves every run and is stopped at the end.
set -euo pipefail
rounds=$1 seconds=$2 clients=$3 load=$4
shift 4
binaries=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
cluster=$(mktemp -d)
chmod 755 "$cluster"
base=$(bash "$root/.ci/postgres" start "$cluster")
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash "$root/.ci/postgres" stop "$cluster"
  rm -rf "$cluster"
}
trap cleanup EXIT
port=$(( 30000 + RANDOM % 20000 ))
run=0
wait_up() {
  for _ in $(seq 100); do
    curl -fs "http://$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server at $1 did not start" >&2
  return 1
}
for round in $(seq "$rounds"); do
  for binary in "${binaries[@]}"; do
    for count in 1 2; do
      run=$((run + 1))
      database="bench_$run"
      psql -q "$base" -c "CREATE DATABASE $database" >/dev/null
      url="${base%/*}/$database"
      token=$("$binary" serve token create E0123 --db "$url")
      addresses=()
      servers=()
      for _ in $(seq "$count"); do
        port=$((port + 1))
        "$binary" serve "$root/examples/expense" --listen "127.0.0.1:$port" --db "$url" >"$cluster/server-$run-$port.log" 2>&1 &
        servers+=($!)
        addresses+=("127.0.0.1:$port")
      done
      for address in "${addresses[@]}"; do wait_up "$address"; done
      line=$("$load" "$token" "$seconds" "$clients" "${addresses[@]}")
      echo "round $round $(basename "$binary") servers $count: $line"
      for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
      servers=()
      psql -q "$base" -c "DROP DATABASE $database" >/dev/null
    done
  done
done
