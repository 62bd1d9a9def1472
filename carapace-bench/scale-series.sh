#!/usr/bin/env bash
# Issue 13 item 6: read, identifier search and create on one start-dev server as its data grows.
#
#   carapace-bench/scale-series.sh start                  # a start-dev server of its own (data dir, port below)
#   carapace-bench/scale-series.sh seed TAG SEED N        # seed N more patients (5 observations each) in
#                                                         # transaction Bundles of 100; ids kept as TAG
#   carapace-bench/scale-series.sh measure TAG ID-TAGS    # wrk read/search/create over the ids of ID-TAGS
#                                                         # (comma-separated), e.g. "10k,90k" for all 100,000
#   carapace-bench/scale-series.sh stop
#
# Environment: SCALE_DIR (default /tmp/carapace-scale: the server's data directory and this script's
# files), SCALE_PORT (default 19443), WARMUP (seconds before each measured run, default 30),
# DURATION (default 30), WORKLOADS (default "read search create"), SCALE_SERVER_ARGS (more start-dev options, e.g.
# "--carapace.keyring.dek-cache-size=1000"). Nothing of it runs under ./mvnw verify. What it prints per workload:
# requests/s, p50/p99, the server's and PostgreSQL's CPU per request from /proc, and which indexes
# served the requests (index scans per request, from pg_stat_user_indexes). The bench client's
# secret stays in SCALE_DIR/client.txt (mode 600); it is never printed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SCALE_DIR:-/tmp/carapace-scale}"
port="${SCALE_PORT:-19443}"
url="https://localhost:$port/fhir"
data="$dir/data"
die() { echo "scale-series: $*" >&2; exit 2; }
server_pid() { pgrep -f "carapace-server.jar start-dev --data-dir $data" || true; }

credentials() {
  [ -f "$dir/client.txt" ] || die "no bench client: run 'start' first"
  CARAPACE_BENCH_CLIENT_ID="$(grep -oE 'svc-[0-9a-f-]+' "$dir/client.txt" | head -1)"
  CARAPACE_BENCH_CLIENT_SECRET="$(grep -iE 'client_secret' "$dir/client.txt" | sed -E 's/.*[:=] *//' | head -1)"
  export CARAPACE_BENCH_CLIENT_ID CARAPACE_BENCH_CLIENT_SECRET
}

token() {
  curl -s --cacert "$data/tls/server.crt" -u "$CARAPACE_BENCH_CLIENT_ID:$CARAPACE_BENCH_CLIENT_SECRET" \
    -d grant_type=client_credentials "https://localhost:$port/oauth2/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}

pg_port() { sed -n 4p "$data/pg/postmaster.pid"; }
psql_scale() { psql -h localhost -p "$(pg_port)" -U postgres -d postgres -Atc "$1"; }

# CPU ticks of PostgreSQL: the postmaster with its reaped children, and its live children
pg_ticks() {
  local pm total=0 p
  pm="$(head -1 "$data/pg/postmaster.pid")"
  for p in $pm $(pgrep -P "$pm"); do
    total=$((total + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat" 2> /dev/null || echo 0)))
  done
  echo "$total"
}

index_scans() { psql_scale "select indexrelid::regclass || ' ' || idx_scan from pg_stat_user_indexes" | sort; }

case "${1:-}" in
start)
  [ -z "$(server_pid)" ] || die "already running (pid $(server_pid))"
  mkdir -p "$dir"; chmod 700 "$dir"
  # the bench is one caller standing in for many: its per-caller rate limit is raised (docs/BENCHMARKS.md)
  nohup "$repo/carapace" start-dev --data-dir "$data" --server.port="$port" \
    --carapace.rate-limit.requests-per-second=100000 --carapace.rate-limit.burst=100000 ${SCALE_SERVER_ARGS:-} \
    > "$dir/server.log" 2>&1 &
  for _ in $(seq 1 300); do
    curl -s -o /dev/null --cacert "$data/tls/server.crt" "$url/metadata" 2> /dev/null && break
    sleep 1
  done
  curl -s -o /dev/null --cacert "$data/tls/server.crt" "$url/metadata" || die "the server did not answer; see $dir/server.log"
  if [ ! -f "$dir/client.txt" ]; then
    (umask 077; "$repo/carapace" admin create-client --data-dir "$data" --name scale-bench --role records-service > "$dir/client.txt")
  fi
  echo "started: $url (pid $(server_pid)), data in $data" ;;
seed)
  [ $# -eq 4 ] || die "usage: seed TAG SEED N"
  credentials
  started=$(date +%s)
  "$repo/carapace" bench --base-url "$url" --cacert "$data/tls/server.crt" --seed-only --seed "$3" \
    --dataset-patients "$4" --observations-per-patient 5 --seed-batch 100 --concurrency 4 \
    --write-dataset "$dir/$2-ids.txt" --write-identifiers "$dir/$2-identifiers.txt" > "$dir/seed-$2.log" 2>&1
  echo "seeded $4 patients with 5 observations each in $(( $(date +%s) - started )) s ($2)"
  psql_scale "select resource_type || ': ' || count(*) from phi.resource group by resource_type" ;;
measure)
  [ $# -eq 3 ] || die "usage: measure TAG ID-TAGS"
  credentials
  pid="$(server_pid)"; [ -n "$pid" ] || die "not running"
  : > "$dir/$2-ids.all"; : > "$dir/$2-identifiers.all"
  for t in ${3//,/ }; do cat "$dir/$t-ids.txt" >> "$dir/$2-ids.all"; cat "$dir/$t-identifiers.txt" >> "$dir/$2-identifiers.all"; done
  echo "$2: $(wc -l < "$dir/$2-ids.all") patients read and searched; in the table: $(psql_scale "select string_agg(resource_type || ' ' || n, ', ') from (select resource_type, count(*) n from phi.resource group by 1) c")"
  for workload in ${WORKLOADS:-read search create}; do
    case "$workload" in
      read) args=(-s "$repo/carapace-bench/wrk/read-patient.lua" "$url" -- "$dir/$2-ids.all") ;;
      search) args=(-s "$repo/carapace-bench/wrk/search-patient-by-identifier.lua" "$url" -- "$dir/$2-identifiers.all") ;;
      create) args=(-s "$repo/carapace-bench/wrk/create-patient.lua" "$url") ;;
    esac
    WRK_BEARER_TOKEN="$(token)"; export WRK_BEARER_TOKEN
    wrk -t2 -c32 -d"${WARMUP:-30}"s --timeout 30s "${args[@]}" > /dev/null
    index_scans > "$dir/idx0"; sleep 0.6   # statistics reach pg_stat within half a second
    c0=$(awk '{print $14+$15}' "/proc/$pid/stat"); p0=$(pg_ticks)
    wrk -t2 -c32 -d"${DURATION:-30}"s --timeout 30s --latency "${args[@]}" > "$dir/$2-$workload.txt"
    c1=$(awk '{print $14+$15}' "/proc/$pid/stat"); p1=$(pg_ticks)
    sleep 0.6; index_scans > "$dir/idx1"
    out="$dir/$2-$workload.txt"
    n=$(grep -oE '[0-9]+ requests in' "$out" | awk '{print $1}')
    hz=$(getconf CLK_TCK)
    echo "$2 $workload: $(grep -oE 'Requests/sec: +[0-9.]+' "$out" | awk '{print $2}') req/s," \
      "p50 $(grep ' 50%' "$out" | awk '{print $2}') p99 $(grep ' 99%' "$out" | awk '{print $2}')," \
      "server $(echo "scale=3; ($c1-$c0)*1000/$hz/$n" | bc) ms/req, PostgreSQL $(echo "scale=3; ($p1-$p0)*1000/$hz/$n" | bc) ms/req," \
      "non-2xx $(grep -oE 'Non-2xx[^0-9]*[0-9]+' "$out" | grep -oE '[0-9]+$' || echo 0)"
    join "$dir/idx0" "$dir/idx1" | awk -v n="$n" '$3 > $2 {printf "    %s %.2f index scans per request\n", $1, ($3 - $2) / n}' \
      | sort -k2 -rn | head -10
  done ;;
stop)
  pid="$(server_pid)"; [ -n "$pid" ] || die "not running"
  kill "$pid"; echo "stopped (pid $pid)" ;;
*)
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
