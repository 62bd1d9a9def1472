#!/usr/bin/env bash
# Carapace and the stock HAPI FHIR JPA server side by side, with the same wrk workloads, in one run
# (issue 13, item 7). See usage() below and docs/BENCHMARKS.md, "Side by side with HAPI FHIR".
#
# What it does, in order:
#   1. builds the HAPI FHIR JPA starter (hapifhir/hapi-fhir-jpaserver-starter, HAPI FHIR 8.8.0) from
#      the checkout given with --hapi-src, with Maven, unless target/ROOT.war is already there;
#   2. creates a throwaway PostgreSQL cluster (Debian's postgresql package) under a temporary
#      directory, on a free loopback port, and starts HAPI against it: plain HTTP on loopback, no
#      authentication, Hibernate Search (Lucene) off, otherwise the starter's own application.yaml;
#   3. starts Carapace with `./carapace start-dev` on a free port and a fresh data directory (or uses
#      one already running, --carapace-url) and registers a bench client (role records-service);
#   4. seeds both with the same data set (`carapace bench --seed-only`, same seed, so the same
#      patients and MRNs), writing the ids each server assigned and the identifiers;
#   5. runs each workload (read Patient by id, search Patient by identifier, create Patient) with wrk,
#      warm-up then measured, --runs times per server, alternating which server goes first; samples the
#      CPU time of the server process and of its PostgreSQL (postmaster and backends) from /proc
#      before and after each measured run, and the server's resident memory every second;
#   6. prints a table with the ratios Carapace / HAPI and writes everything as JSON.
# It stops what it started (HAPI, its PostgreSQL, Carapace if it started it) when it ends.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wrk_scripts="$repo/carapace-bench/wrk"

# The starter release that builds HAPI FHIR 8.8.0 (tag image/v8.8.0-1, 2026-02-23).
readonly HAPI_STARTER_COMMIT=3f0170b55de911b7f6c4844bc5d0a4b513d2becd
readonly HAPI_FHIR_VERSION=8.8.0

usage() {
  cat <<EOF
Usage: carapace-bench/compare-hapi.sh --hapi-src DIR [options]

Builds and starts the stock HAPI FHIR JPA server (starter project, HAPI FHIR $HAPI_FHIR_VERSION) against a
throwaway Debian PostgreSQL, starts Carapace start-dev (or uses a running one), seeds both with the same
data set and drives both with the same wrk workloads, alternating, then prints Carapace / HAPI ratios.

Getting the HAPI starter (once; any directory outside this repository):
  git clone https://github.com/hapifhir/hapi-fhir-jpaserver-starter.git
  git -C hapi-fhir-jpaserver-starter checkout $HAPI_STARTER_COMMIT   # tag image/v8.8.0-1
The first build downloads HAPI's dependencies from Maven Central (a few minutes); it runs
'mvn -DskipTests package' in that directory, never under this repository's Maven build.

HAPI:
  --hapi-src DIR          checkout of hapi-fhir-jpaserver-starter (required)
  --rebuild-hapi          build even if DIR/target/ROOT.war exists
  --hapi-port PORT        loopback port for HAPI (default: first free from 18080)
  --hapi-java-opts OPTS   JVM options for HAPI (default: none, the JVM's defaults, as the starter runs)
  --pg-bin DIR            PostgreSQL binaries (default: newest /usr/lib/postgresql/*/bin)

Carapace:
  --carapace-url URL      use this running Carapace FHIR base (e.g. https://localhost:8443/fhir) instead of
                          starting one; needs CARAPACE_BENCH_CLIENT_ID / CARAPACE_BENCH_CLIENT_SECRET in the
                          environment (a client with role records-service) and --carapace-cacert
  --carapace-cacert FILE  its certificate (PEM); default: DATA_DIR/tls/server.crt
  --carapace-pid PID      its server process (default: whatever listens on the URL's port)
  --carapace-data-dir DIR data directory: for a started server default a fresh temporary one; for
                          --carapace-url, where to find pg/postmaster.pid (PostgreSQL's CPU)
  --carapace-port PORT    port for the started server (default: 8443 if free, else first free from 18443)
  --carapace-java-opts O  CARAPACE_JAVA_OPTS for the started server (default: the launcher's, -Xmx512m)

Load (defaults are issue 13's):
  --workloads LIST        comma-separated of read,search,create (default: read,search,create)
  --threads N             wrk threads (default: 2)
  --connections N         wrk connections (default: 32)
  --warmup SECONDS        warm-up before every measured run (default: 10)
  --duration SECONDS      measured time per run (default: 30)
  --runs N                measured runs per workload and server (default: 2)
  --timeout SECONDS       wrk's per-request timeout (default: 30; wrk's own 2 s would drop slow answers)
  --patients N            patients seeded in each server (default: 1000)
  --observations-per-patient N   observations seeded per patient (default: 5)
  --seed N                seed of the data set (default: 43)

Output:
  -o, --output FILE       JSON result (default: compare-hapi-result.json)
  --workdir DIR           logs, data-set files, wrk outputs (default: a new temporary directory; kept)
  --start-timeout SECONDS how long a server may take to answer /metadata (default: 900)
  -h, --help

Smoke run (a few minutes, not a measurement):
  carapace-bench/compare-hapi.sh --hapi-src ../hapi-fhir-jpaserver-starter --warmup 2 --duration 5 --runs 1

Needs: java (17+), mvn, wrk, curl, jq, PostgreSQL server binaries (Debian: apt-get install postgresql
wrk jq curl maven). Run as root, it runs PostgreSQL as the 'postgres' user (initdb refuses root).
EOF
}

say() { printf '%s compare-hapi: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 2; }

# --- options -------------------------------------------------------------------------------------
hapi_src=""; rebuild_hapi=false; hapi_port=""; hapi_java_opts=""; pg_bin=""
carapace_url=""; carapace_cacert=""; carapace_pid=""; carapace_data_dir=""; carapace_port=""
carapace_java_opts="${CARAPACE_JAVA_OPTS:-}"
workloads="read,search,create"; threads=2; connections=32; warmup=10; duration=30; runs=2; timeout=30
patients=1000; observations=5; seed=43
output="compare-hapi-result.json"; workdir=""; start_timeout=900

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --hapi-src) need_value "$@"; hapi_src="$2"; shift ;;
    --rebuild-hapi) rebuild_hapi=true ;;
    --hapi-port) need_value "$@"; hapi_port="$2"; shift ;;
    --hapi-java-opts) need_value "$@"; hapi_java_opts="$2"; shift ;;
    --pg-bin) need_value "$@"; pg_bin="$2"; shift ;;
    --carapace-url) need_value "$@"; carapace_url="${2%/}"; shift ;;
    --carapace-cacert) need_value "$@"; carapace_cacert="$2"; shift ;;
    --carapace-pid) need_value "$@"; carapace_pid="$2"; shift ;;
    --carapace-data-dir) need_value "$@"; carapace_data_dir="$2"; shift ;;
    --carapace-port) need_value "$@"; carapace_port="$2"; shift ;;
    --carapace-java-opts) need_value "$@"; carapace_java_opts="$2"; shift ;;
    --workloads) need_value "$@"; workloads="$2"; shift ;;
    --threads) need_value "$@"; threads="$2"; shift ;;
    --connections) need_value "$@"; connections="$2"; shift ;;
    --warmup) need_value "$@"; warmup="$2"; shift ;;
    --duration) need_value "$@"; duration="$2"; shift ;;
    --runs) need_value "$@"; runs="$2"; shift ;;
    --timeout) need_value "$@"; timeout="$2"; shift ;;
    --patients) need_value "$@"; patients="$2"; shift ;;
    --observations-per-patient) need_value "$@"; observations="$2"; shift ;;
    --seed) need_value "$@"; seed="$2"; shift ;;
    -o|--output) need_value "$@"; output="$2"; shift ;;
    --workdir) need_value "$@"; workdir="$2"; shift ;;
    --start-timeout) need_value "$@"; start_timeout="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

is_count() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
for pair in "threads:$threads" "connections:$connections" "warmup:$warmup" "duration:$duration" "runs:$runs" \
    "timeout:$timeout" "patients:$patients" "start-timeout:$start_timeout"; do
  is_count "${pair#*:}" || die "--${pair%%:*} must be a positive whole number"
done
[[ "$observations" =~ ^[0-9]+$ ]] || die "--observations-per-patient must be a whole number"
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed must be a whole number"
[ -n "$hapi_src" ] || { usage >&2; die "--hapi-src DIR is required"; }
[ -f "$hapi_src/pom.xml" ] || die "$hapi_src has no pom.xml: not a hapi-fhir-jpaserver-starter checkout"
hapi_src="$(cd "$hapi_src" && pwd)"
case "$hapi_src/" in "$repo"/*) die "--hapi-src must be outside this repository (its build stays out of ours)" ;; esac

declare -a workload_list=()
IFS=',' read -r -a requested <<< "$workloads"
for w in "${requested[@]}"; do
  case "$w" in
    read|search|create) workload_list+=("$w") ;;
    *) die "unknown workload '$w' (read, search, create)" ;;
  esac
done

for tool in java mvn wrk curl jq; do
  command -v "$tool" > /dev/null || die "$tool not found (Debian: apt-get install wrk jq curl maven openjdk-17-jdk-headless)"
done

if [ -z "$pg_bin" ]; then
  pg_bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2> /dev/null | sort -V | tail -n 1)"
  if [ -z "$pg_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    say "PostgreSQL server binaries missing: apt-get install postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql > /dev/null
    pg_bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -n 1)"
  fi
fi
[[ -x "$pg_bin/initdb" && -x "$pg_bin/pg_ctl" ]] || die "no PostgreSQL binaries (apt-get install postgresql, or --pg-bin DIR)"

if [ -z "$workdir" ]; then
  workdir="$(mktemp -d "${TMPDIR:-/tmp}/compare-hapi.XXXXXX")"
fi
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
case "$output" in /*) ;; *) output="$PWD/$output" ;; esac
clock_ticks="$(getconf CLK_TCK)"
say "work directory (logs, data sets, wrk outputs): $workdir"

# --- stopping what we started ----------------------------------------------------------------------
hapi_pid=""; started_carapace_pid=""; pg_data=""; pg_root=""; rss_sampler_pid=""

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_process() { # PID LABEL: SIGTERM, up to 60 s for a clean stop, then SIGKILL
  local pid="$1" label="$2" waited=0
  kill -0 "$pid" 2> /dev/null || return 0
  say "stopping $label (pid $pid)"
  kill -TERM "$pid" 2> /dev/null || true
  while kill -0 "$pid" 2> /dev/null && [ "$waited" -lt 60 ]; do sleep 1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2> /dev/null; then kill -KILL "$pid" 2> /dev/null || true; fi
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$rss_sampler_pid" ]; then kill "$rss_sampler_pid" 2> /dev/null || true; fi
  if [ -n "$hapi_pid" ]; then stop_process "$hapi_pid" "HAPI"; fi
  if [ -n "$started_carapace_pid" ]; then stop_process "$started_carapace_pid" "Carapace"; fi
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    say "stopping HAPI's PostgreSQL"
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop > /dev/null 2>&1 || true
  fi
  if [ -n "$pg_root" ]; then rm -rf "$pg_root"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ---------------------------------------------------------------------------------------
port_in_use() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

free_port() { # first port from $1 up that nothing listens on
  local port="$1"
  while port_in_use "$port"; do port=$((port + 1)); done
  echo "$port"
}

http_status() { # URL [curl options...]
  local url="$1"; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

wait_for_metadata() { # LABEL PID URL [curl options...]: until GET URL/metadata answers 200
  local label="$1" pid="$2" url="$3" since="$SECONDS"; shift 3
  say "waiting for $label to answer $url/metadata (up to $start_timeout s)"
  until [ "$(http_status "$url/metadata" "$@")" = 200 ]; do
    kill -0 "$pid" 2> /dev/null || die "$label exited before answering; see its log in $workdir"
    [ $((SECONDS - since)) -lt "$start_timeout" ] || die "$label did not answer within $start_timeout s; see its log in $workdir"
    sleep 2
  done
  say "$label answers ($((SECONDS - since)) s after this wait began)"
}

process_ticks() { # PID: user + system CPU ticks of the process (all its threads)
  local line rest
  read -r line < "/proc/$1/stat" || { echo 0; return; }
  rest="${line##*) }"
  read -r -a f <<< "$rest"
  echo $(( f[11] + f[12] ))
}

postgres_ticks() { # POSTMASTER_PID: CPU ticks of the postmaster, its live backends and the ones it reaped
  local postmaster="$1" total=0 line rest stat
  read -r line < "/proc/$postmaster/stat" || { echo 0; return; }
  rest="${line##*) }"
  read -r -a f <<< "$rest"
  total=$(( f[11] + f[12] + f[13] + f[14] ))
  for stat in /proc/[0-9]*/stat; do
    read -r line 2> /dev/null < "$stat" || continue
    rest="${line##*) }"
    read -r -a f <<< "$rest"
    if [ "${f[1]}" = "$postmaster" ]; then total=$(( total + f[11] + f[12] + f[13] + f[14] )); fi
  done
  echo "$total"
}

machine_ticks() { # "busy total" ticks of all CPUs, from /proc/stat
  local label user nice system idle iowait irq softirq steal rest
  read -r label user nice system idle iowait irq softirq steal rest < /proc/stat
  echo "$(( user + nice + system + irq + softirq + steal )) $(( user + nice + system + idle + iowait + irq + softirq + steal ))"
}

rss_kib() { # PID: VmRSS in KiB
  local key value
  while read -r key value _; do
    if [ "$key" = "VmRSS:" ]; then echo "$value"; return; fi
  done < "/proc/$1/status"
  echo 0
}

start_rss_sampler() { # PID FILE: writes the largest VmRSS seen, once a second, until killed
  local pid="$1" file="$2"
  (
    max=0
    while kill -0 "$pid" 2> /dev/null; do
      now="$(rss_kib "$pid")"
      if [ "$now" -gt "$max" ]; then max="$now"; echo "$max" > "$file"; fi
      sleep 1
    done
  ) &
  rss_sampler_pid=$!
}

# --- HAPI: build, PostgreSQL, start ----------------------------------------------------------------
hapi_parent_version="$(sed -n '/<parent>/,/<\/parent>/s/.*<version>\(.*\)<\/version>.*/\1/p' "$hapi_src/pom.xml" | head -n 1)"
hapi_commit="$(git -C "$hapi_src" rev-parse HEAD 2> /dev/null || echo unknown)"
if [ "$hapi_parent_version" != "$HAPI_FHIR_VERSION" ]; then
  say "warning: $hapi_src builds HAPI FHIR $hapi_parent_version, not $HAPI_FHIR_VERSION (starter commit $HAPI_STARTER_COMMIT)"
fi
if [ "$hapi_commit" != "$HAPI_STARTER_COMMIT" ]; then
  say "warning: $hapi_src is at commit $hapi_commit, not the starter release $HAPI_STARTER_COMMIT"
fi

hapi_war="$hapi_src/target/ROOT.war"
if $rebuild_hapi || [ ! -f "$hapi_war" ]; then
  say "building the HAPI starter (mvn package, tests skipped; log: $workdir/hapi-build.log)"
  (cd "$hapi_src" && mvn -B -DskipTests -Dmaven.test.skip=true -Dduplicate-finder.skip=true package) \
    > "$workdir/hapi-build.log" 2>&1 || die "the HAPI build failed; see $workdir/hapi-build.log"
fi
[ -f "$hapi_war" ] || die "no $hapi_war after the build"

pg_root="$(mktemp -d "${TMPDIR:-/tmp}/compare-hapi-pg.XXXXXX")"
pg_data="$pg_root/data"
pg_port="$(free_port 55432)"
chmod 755 "$pg_root"
if [ "$(id -u)" = 0 ]; then chown postgres: "$pg_root"; fi
say "initialising a throwaway PostgreSQL cluster ($("$pg_bin/postgres" --version)) on 127.0.0.1:$pg_port"
as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-locale > "$workdir/postgres-initdb.log" 2>&1 \
  || die "initdb failed; see $workdir/postgres-initdb.log"
# The settings Carapace's start-dev gives its embedded PostgreSQL (durable commits), loopback only.
as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_root/postgres.log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_root -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=100" \
  start > /dev/null || die "PostgreSQL did not start; see $pg_root/postgres.log"
"$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'CREATE DATABASE hapi' \
  || die "could not create the hapi database"
hapi_pg_pid="$(head -n 1 "$pg_data/postmaster.pid")"

hapi_port="${hapi_port:-$(free_port 18080)}"
port_in_use "$hapi_port" && die "port $hapi_port is taken"
hapi_url="http://127.0.0.1:$hapi_port/fhir"
say "starting HAPI FHIR $hapi_parent_version on $hapi_url (log: $workdir/hapi.log)"
# The starter's application.yaml with only what PostgreSQL needs changed (as its README says) and the
# address and port; no security is configured in the starter, so none is on.
# shellcheck disable=SC2086 # the JVM options are a list of words on purpose
java $hapi_java_opts -jar "$hapi_war" \
  --server.address=127.0.0.1 --server.port="$hapi_port" \
  --spring.datasource.url="jdbc:postgresql://127.0.0.1:$pg_port/hapi" \
  --spring.datasource.username=postgres --spring.datasource.password= \
  --spring.datasource.driver-class-name=org.postgresql.Driver \
  --spring.jpa.properties.hibernate.dialect=ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect \
  --spring.jpa.properties.hibernate.search.enabled=false \
  > "$workdir/hapi.log" 2>&1 &
hapi_pid=$!

# --- Carapace: start or use ------------------------------------------------------------------------
carapace_started=false
if [ -z "$carapace_url" ]; then
  carapace_started=true
  if [ -z "$carapace_port" ]; then
    if port_in_use 8443; then carapace_port="$(free_port 18443)"; else carapace_port=8443; fi
  fi
  port_in_use "$carapace_port" && die "port $carapace_port is taken"
  carapace_data_dir="${carapace_data_dir:-$workdir/carapace-data}"
  [ -e "$carapace_data_dir/pg/postmaster.pid" ] && die "$carapace_data_dir is in use by another server"
  carapace_url="https://localhost:$carapace_port/fhir"
  say "starting Carapace start-dev on $carapace_url, data in $carapace_data_dir (log: $workdir/carapace.log)"
  # The launcher execs the JVM, so this pid is the server's. The bench's one client stands for the
  # many callers of a real load: its per-caller rate limit (500/s by default) is raised, as in
  # docs/BENCHMARKS.md "Running it", or the comparison would count 429s.
  CARAPACE_JAVA_OPTS="$carapace_java_opts" "$repo/carapace" start-dev --data-dir "$carapace_data_dir" \
    --server.port="$carapace_port" --carapace.rate-limit.requests-per-second=100000 \
    --carapace.rate-limit.burst=100000 > "$workdir/carapace.log" 2>&1 &
  started_carapace_pid=$!
  carapace_pid="$started_carapace_pid"
fi
carapace_cacert="${carapace_cacert:-${carapace_data_dir:+$carapace_data_dir/tls/server.crt}}"
carapace_origin="${carapace_url%/fhir}"
carapace_port_of_url="${carapace_origin##*:}"
[[ "$carapace_port_of_url" =~ ^[0-9]+$ ]] || carapace_port_of_url=443

if $carapace_started; then
  # The certificate appears while the server starts.
  since="$SECONDS"
  until [ -f "$carapace_cacert" ]; do
    kill -0 "$carapace_pid" 2> /dev/null || die "Carapace exited while starting; see $workdir/carapace.log"
    [ $((SECONDS - since)) -lt "$start_timeout" ] || die "no $carapace_cacert after $start_timeout s"
    sleep 2
  done
fi
[[ -n "$carapace_cacert" && -f "$carapace_cacert" ]] || die "--carapace-cacert FILE (PEM) is needed for $carapace_url"
if [ -z "$carapace_pid" ] && command -v ss > /dev/null; then
  carapace_pid="$(ss -Hltnp "sport = :$carapace_port_of_url" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)"
fi
[ -n "$carapace_pid" ] || die "cannot tell Carapace's server process; give --carapace-pid PID"

wait_for_metadata "Carapace" "$carapace_pid" "$carapace_url" --cacert "$carapace_cacert"
carapace_pg_pid=""; carapace_postgres="unknown"
if [ -n "$carapace_data_dir" ] && [ -f "$carapace_data_dir/pg/postmaster.pid" ]; then
  carapace_pg_pid="$(head -n 1 "$carapace_data_dir/pg/postmaster.pid")"
  carapace_postgres="$("$(readlink "/proc/$carapace_pg_pid/exe")" --version 2> /dev/null || echo unknown)"
else
  say "warning: no $carapace_data_dir/pg/postmaster.pid: Carapace's PostgreSQL CPU is not measured (--carapace-data-dir)"
fi

if $carapace_started; then
  say "registering a bench client (role records-service)"
  client_output="$("$repo/carapace" admin create-client --data-dir "$carapace_data_dir" \
    --name "bench-compare-$(date +%s)" --role records-service 2> "$workdir/create-client.log")" \
    || die "create-client failed; see $workdir/create-client.log"
  CARAPACE_BENCH_CLIENT_ID="$(sed -n 's/^client_id: *//p' <<< "$client_output")"
  CARAPACE_BENCH_CLIENT_SECRET="$(sed -n 's/^client_secret: *//p' <<< "$client_output")"
  unset client_output
fi
[[ -n "${CARAPACE_BENCH_CLIENT_ID:-}" && -n "${CARAPACE_BENCH_CLIENT_SECRET:-}" ]] \
  || die "no bench client: set CARAPACE_BENCH_CLIENT_ID and CARAPACE_BENCH_CLIENT_SECRET (role records-service)"

carapace_token() { # a fresh access token (15 minutes); the secret goes to curl on stdin, not in ps
  printf 'user = "%s:%s"\n' "$CARAPACE_BENCH_CLIENT_ID" "$CARAPACE_BENCH_CLIENT_SECRET" \
    | curl -s --fail --cacert "$carapace_cacert" --config - -d grant_type=client_credentials \
      "$carapace_origin/oauth2/token" | jq -r '.access_token // empty'
}
[ -n "$(carapace_token)" ] || die "Carapace's token endpoint refused the bench client"

wait_for_metadata "HAPI" "$hapi_pid" "$hapi_url"

# --- the same data set in both ---------------------------------------------------------------------
seed_server() { # NAME URL [bench options...]
  local name="$1" url="$2"; shift 2
  say "seeding $name: $patients patients, $observations observations each, seed $seed"
  "$repo/carapace" bench --base-url "$url" "$@" --seed-only --seed "$seed" --dataset-patients "$patients" \
    --observations-per-patient "$observations" --write-dataset "$workdir/$name-patient-ids.txt" \
    --write-identifiers "$workdir/$name-identifiers.txt" > "$workdir/$name-seed.log" 2>&1 \
    || die "seeding $name failed; see $workdir/$name-seed.log"
}
export CARAPACE_BENCH_CLIENT_ID CARAPACE_BENCH_CLIENT_SECRET
seed_server carapace "$carapace_url" --cacert "$carapace_cacert"
(unset CARAPACE_BENCH_CLIENT_ID CARAPACE_BENCH_CLIENT_SECRET; seed_server hapi "$hapi_url")
cmp -s "$workdir/carapace-identifiers.txt" "$workdir/hapi-identifiers.txt" \
  || die "the two servers were not seeded with the same identifiers"

# --- workloads -------------------------------------------------------------------------------------
runs_file="$workdir/runs.jsonl"
: > "$runs_file"
run_tag=$(( $(date +%s) % 10000 ))

wrk_once() { # SERVER WORKLOAD SECONDS OUTFILE [--latency]
  local server="$1" workload="$2" seconds="$3" out="$4" url script arg token=""
  shift 4
  case "$workload" in
    read) script="$wrk_scripts/read-patient.lua"; arg="$workdir/$server-patient-ids.txt" ;;
    search) script="$wrk_scripts/search-patient-by-identifier.lua"; arg="$workdir/$server-identifiers.txt" ;;
    create) script="$wrk_scripts/create-patient.lua"; run_tag=$(( (run_tag + 1) % 10000 )); arg="$run_tag" ;;
  esac
  if [ "$server" = carapace ]; then
    url="$carapace_url"
    token="$(carapace_token)"
    [ -n "$token" ] || die "no access token from Carapace"
  else
    url="$hapi_url"
  fi
  WRK_BEARER_TOKEN="$token" wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout "${timeout}s" "$@" \
    -s "$script" "$url" -- "$arg" > "$out" 2>&1 || die "wrk failed; see $out"
}

measure() { # SERVER WORKLOAD RUN
  local server="$1" workload="$2" run="$3" pid pg_pid out rss_file
  local cpu0 cpu1 pg0 pg1 busy0 total0 busy1 total1 started ended
  if [ "$server" = carapace ]; then pid="$carapace_pid"; pg_pid="$carapace_pg_pid"; else pid="$hapi_pid"; pg_pid="$hapi_pg_pid"; fi
  kill -0 "$pid" 2> /dev/null || die "the $server server is gone"
  say "$workload, run $run: $server: warm-up ${warmup}s, then ${duration}s measured"
  wrk_once "$server" "$workload" "$warmup" "$workdir/wrk-$workload-$run-$server-warmup.txt"
  out="$workdir/wrk-$workload-$run-$server.txt"
  rss_file="$workdir/rss-$workload-$run-$server.txt"
  echo 0 > "$rss_file"
  start_rss_sampler "$pid" "$rss_file"
  cpu0="$(process_ticks "$pid")"
  pg0=0; if [ -n "$pg_pid" ]; then pg0="$(postgres_ticks "$pg_pid")"; fi
  read -r busy0 total0 <<< "$(machine_ticks)"
  started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  wrk_once "$server" "$workload" "$duration" "$out" --latency
  ended="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  cpu1="$(process_ticks "$pid")"
  pg1=0; if [ -n "$pg_pid" ]; then pg1="$(postgres_ticks "$pg_pid")"; fi
  read -r busy1 total1 <<< "$(machine_ticks)"
  kill "$rss_sampler_pid" 2> /dev/null || true
  wait "$rss_sampler_pid" 2> /dev/null || true
  rss_sampler_pid=""

  local requests seconds non2xx socket p50 p90 p99 max
  read -r requests seconds <<< "$(sed -n 's/^summary: requests \([0-9]*\), seconds \([0-9.]*\)$/\1 \2/p' "$out")"
  read -r non2xx socket <<< "$(sed -n 's/^errors: non-2xx\/3xx \([0-9]*\), connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\)$/\1 \2+\3+\4+\5/p' "$out")"
  read -r p50 p90 p99 max <<< "$(sed -n 's/^latency ms: p50 \([0-9.]*\), p90 \([0-9.]*\), p99 \([0-9.]*\), max \([0-9.]*\)$/\1 \2 \3 \4/p' "$out")"
  [[ -n "$requests" && -n "$p99" && -n "$non2xx" ]] || die "could not read wrk's output $out"
  jq -n -c --arg server "$server" --arg workload "$workload" --argjson run "$run" \
    --arg started "$started" --arg ended "$ended" \
    --argjson requests "$requests" --argjson seconds "$seconds" \
    --argjson non2xx "$non2xx" --argjson socketErrors "$(( socket ))" \
    --argjson p50 "$p50" --argjson p90 "$p90" --argjson p99 "$p99" --argjson max "$max" \
    --argjson serverTicks "$(( cpu1 - cpu0 ))" --argjson pgTicks "$(( pg1 - pg0 ))" \
    --argjson pgMeasured "$([ -n "$pg_pid" ] && echo true || echo false)" \
    --argjson busyTicks "$(( busy1 - busy0 ))" --argjson totalTicks "$(( total1 - total0 ))" \
    --argjson hz "$clock_ticks" --argjson cpus "$(nproc)" --argjson rssKiB "$(cat "$rss_file")" \
    '{server: $server, workload: $workload, run: $run, started: $started, ended: $ended,
      requests: $requests, seconds: $seconds,
      requestsPerSecond: ($requests / $seconds),
      errors: {non2xx: $non2xx, socket: $socketErrors},
      latencyMs: {p50: $p50, p90: $p90, p99: $p99, max: $max},
      serverCpuSeconds: ($serverTicks / $hz),
      serverCpuMsPerRequest: (if $requests > 0 then $serverTicks / $hz * 1000 / $requests else null end),
      postgresCpuSeconds: (if $pgMeasured then $pgTicks / $hz else null end),
      postgresCpuMsPerRequest: (if $pgMeasured and $requests > 0 then $pgTicks / $hz * 1000 / $requests else null end),
      serverRssMaxMiB: ($rssKiB / 1024),
      machineBusyCores: (if $totalTicks > 0 then $busyTicks / $totalTicks * $cpus else null end)}' >> "$runs_file"
}

say "machine before the load: load average $(cut -d ' ' -f 1-3 /proc/loadavg), $(nproc) CPUs"
for workload in "${workload_list[@]}"; do
  for run in $(seq 1 "$runs"); do
    # Alternate which server goes first, so neither always runs on the warmer (or busier) machine.
    if [ $((run % 2)) = 1 ]; then order="carapace hapi"; else order="hapi carapace"; fi
    for server in $order; do
      measure "$server" "$workload" "$run"
    done
  done
done

# --- report ----------------------------------------------------------------------------------------
carapace_commit="$(git -C "$repo" rev-parse HEAD 2> /dev/null || echo unknown)"
carapace_dirty="$([ -n "$(git -C "$repo" status --porcelain 2> /dev/null)" ] && echo true || echo false)"
jq -s \
  --arg generatedAt "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg hapiVersion "$hapi_parent_version" --arg hapiCommit "$hapi_commit" --arg hapiUrl "$hapi_url" \
  --arg hapiJavaOpts "$hapi_java_opts" --arg hapiPostgres "$("$pg_bin/postgres" --version)" \
  --arg carapaceCommit "$carapace_commit" --argjson carapaceDirty "$carapace_dirty" \
  --arg carapaceUrl "$carapace_url" --argjson carapaceStarted "$carapace_started" \
  --arg carapacePostgres "$carapace_postgres" --arg wrkVersion "$(wrk -v 2>&1 | head -n 1 | cut -d ' ' -f 1-2)" \
  --arg carapaceJavaOpts "${carapace_java_opts:-(launcher default -Xmx512m)}" \
  --argjson threads "$threads" --argjson connections "$connections" --argjson warmup "$warmup" \
  --argjson duration "$duration" --argjson runs "$runs" --argjson timeout "$timeout" \
  --argjson patients "$patients" --argjson observations "$observations" --argjson seed "$seed" \
  --arg loadavg "$(cut -d ' ' -f 1-3 /proc/loadavg)" --argjson cpus "$(nproc)" \
  --argjson order "$(printf '%s\n' "${workload_list[@]}" | jq -R . | jq -s -c .)" '
  def mean(f): (map(f) | map(select(. != null))) as $v | if ($v | length) == 0 then null else ($v | add / length) end;
  def summary: {
      runs: length,
      requestsPerSecond: mean(.requestsPerSecond),
      requestsPerSecondRange: [ (map(.requestsPerSecond) | min), (map(.requestsPerSecond) | max) ],
      p99Ms: mean(.latencyMs.p99),
      serverCpuMsPerRequest: mean(.serverCpuMsPerRequest),
      postgresCpuMsPerRequest: mean(.postgresCpuMsPerRequest),
      serverRssMaxMiB: (map(.serverRssMaxMiB) | max),
      errors: (map(.errors.non2xx + .errors.socket) | add),
      machineBusyCores: mean(.machineBusyCores) };
  def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
  . as $all
  | {generatedAt: $generatedAt,
     machine: {cpus: $cpus, loadAverageAtEnd: $loadavg, wrk: $wrkVersion},
     settings: {wrkThreads: $threads, wrkConnections: $connections, warmupSeconds: $warmup,
                durationSeconds: $duration, runs: $runs, wrkTimeoutSeconds: $timeout,
                patients: $patients, observationsPerPatient: $observations, seed: $seed},
     hapi: {fhirVersion: $hapiVersion, starterCommit: $hapiCommit, baseUrl: $hapiUrl,
            javaOpts: $hapiJavaOpts, postgres: $hapiPostgres, hibernateSearch: false, auth: "none", tls: false},
     carapace: {commit: $carapaceCommit, uncommittedChanges: $carapaceDirty, baseUrl: $carapaceUrl,
                startedByScript: $carapaceStarted, javaOpts: $carapaceJavaOpts, postgres: $carapacePostgres},
     workloads: [ $order[] as $name | $all | map(select(.workload == $name)) | select(length > 0) | . as $w
       | ($w | map(select(.server == "carapace")) | summary) as $c
       | ($w | map(select(.server == "hapi")) | summary) as $h
       | {workload: $w[0].workload, carapace: $c, hapi: $h,
          carapaceOverHapi: {throughput: ratio($c.requestsPerSecond; $h.requestsPerSecond),
                             p99: ratio($c.p99Ms; $h.p99Ms),
                             serverCpuPerRequest: ratio($c.serverCpuMsPerRequest; $h.serverCpuMsPerRequest),
                             postgresCpuPerRequest: ratio($c.postgresCpuMsPerRequest; $h.postgresCpuMsPerRequest),
                             serverRss: ratio($c.serverRssMaxMiB; $h.serverRssMaxMiB)}} ],
     runs: $all }' "$runs_file" > "$output"

{
  printf '\n%-8s %-9s %4s %18s %9s %13s %10s %8s %6s %5s\n' workload server runs 'req/s (min-max)' 'p99 ms' \
    'server ms/req' 'pg ms/req' 'RSS MiB' errors busy
  jq -r '
    def f(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
    .workloads[] as $w
    | (["carapace", "hapi"][] as $s | $w[$s]
        | [$w.workload, $s, (.runs | tostring),
           ((.requestsPerSecond | f(0)) + " (" + (.requestsPerSecondRange[0] | f(0)) + "-" + (.requestsPerSecondRange[1] | f(0)) + ")"),
           (.p99Ms | f(1)), (.serverCpuMsPerRequest | f(2)), (.postgresCpuMsPerRequest | f(2)),
           (.serverRssMaxMiB | f(0)), (.errors | tostring), (.machineBusyCores | f(1))] | @tsv),
      ([$w.workload, "C/H", "-",
        ($w.carapaceOverHapi.throughput | f(2)) + "x",
        ($w.carapaceOverHapi.p99 | f(2)) + "x", ($w.carapaceOverHapi.serverCpuPerRequest | f(2)) + "x",
        ($w.carapaceOverHapi.postgresCpuPerRequest | f(2)) + "x", ($w.carapaceOverHapi.serverRss | f(2)) + "x", "-", "-"] | @tsv)
  ' "$output" | while IFS=$'\t' read -r w s r t p c g m e b; do
    printf '%-8s %-9s %4s %18s %9s %13s %10s %8s %6s %5s\n' "$w" "$s" "$r" "$t" "$p" "$c" "$g" "$m" "$e" "$b"
  done
  printf '\nC/H = Carapace / HAPI (throughput: higher is better for Carapace; the rest: lower is).\n'
  printf 'busy = cores of the machine in use during the measured runs (all processes, of %s): near %s, the figures are not about the servers alone.\n' "$(nproc)" "$(nproc)"
  printf 'Result: %s; wrk outputs and logs: %s\n' "$output" "$workdir"
}
