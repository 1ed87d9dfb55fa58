#!/usr/bin/env bash
# The service benchmark suite (issue 6): esink_service beside the Node socket.io baseline.
#
#   benchmarks/run.sh [--only loadgen,fanout,broadcast,publish,idle,idle-max,slow,mariadb]
#                     [--targets esink,baseline] [--quick] [--skip-build] [--out DIR]
#                     [--pg-capture table|logical]   (esink_service's ESINK_PG_CAPTURE, default table)
#
# Builds esink_service and esink_loadgen (BUILD_DIR, default /tmp/build-bench, -j${JOBS:-2}),
# installs the baseline's npm packages, starts a throwaway PostgreSQL (and MariaDB for the
# mariadb scenario), runs every scenario against each target with a fresh server process, and
# prints one table per scenario: esink | baseline | ratio. Everything stays on 127.0.0.0/8;
# every scenario is bounded in time. Raw loadgen output is kept in --out (default a temp dir).
# Exit status: non-zero when any run lost, duplicated or misdelivered an event.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-/tmp/build-bench}
jobs=${JOBS:-2}
only="loadgen,fanout,broadcast,publish,idle,idle-max,slow,mariadb"
targets="esink,baseline"
quick=0
skip_build=0
out=""
pg_capture=table

while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) only=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --skip-build) skip_build=1; shift ;;
    --out) out=$2; shift 2 ;;
    --pg-capture) pg_capture=$2; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }
target_wanted() { [[ ",$targets," == *",$1,"* ]]; }

out=${out:-$(mktemp -d /tmp/esink-bench.XXXXXX)}
mkdir -p "$out"
state=$(mktemp -d /tmp/esink-bench-state.XXXXXX)
log() { echo "== $*" >&2; }
servers=()
cleanup() {
  local p
  for p in "${servers[@]:-}"; do [[ -n $p ]] && kill -KILL "$p" 2>/dev/null || true; done
  "$root/tests/fixtures/postgres/pg_fixture.sh" stop "$state/pg" >/dev/null 2>&1 || true
  [[ -d $state/mariadb ]] && "$root/tests/fixtures/mariadb/mariadb_fixture.sh" stop "$state/mariadb" >/dev/null 2>&1
  rm -rf "$state"
}
trap cleanup EXIT

# ---- setup: tools the suite needs (Debian packages), the build, the baseline's packages ----
need_cmd() {  # need_cmd COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing $2"
    apt-get install -y -q "$2" >/dev/null
  else
    echo "run.sh: $1 is missing (Debian package $2)" >&2
    exit 1
  fi
}
need_cmd node nodejs
need_cmd npm npm
need_cmd cmake cmake
need_cmd psql postgresql-client
if wants mariadb; then need_cmd mariadb mariadb-client; fi

loadgen=$build/benchmarks/esink_loadgen
service=$build/samples/esink_service/esink_service
echo_server=$build/samples/socketio_echo/socketio_echo
if [[ $skip_build -eq 0 ]]; then
  if ! grep -q 'service.cmake' "$root/benchmarks/CMakeLists.txt"; then
    echo "run.sh: benchmarks/CMakeLists.txt must include service.cmake (it registers esink_loadgen)" >&2
    exit 1
  fi
  log "building esink_service and esink_loadgen in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DESINK_BUILD_BENCHMARKS=ON \
    -DESINK_BUILD_TESTS=OFF >"$out/cmake.log" 2>&1 || { tail -20 "$out/cmake.log" >&2; exit 1; }
  cmake --build "$build" -j"$jobs" --target esink_service esink_loadgen socketio_echo >"$out/build.log" 2>&1 ||
    { tail -30 "$out/build.log" >&2; exit 1; }
fi
[[ -x $loadgen ]] || { echo "run.sh: no $loadgen" >&2; exit 1; }
if target_wanted esink && [[ ! -x $service ]]; then echo "run.sh: no $service" >&2; exit 1; fi
if target_wanted baseline && [[ ! -d $here/baseline/node_modules/socket.io ]]; then
  log "installing the baseline's npm packages"
  (cd "$here/baseline" && npm ci --no-audit --no-fund >"$out/npm.log" 2>&1) || { tail -20 "$out/npm.log" >&2; exit 1; }
fi

# Sockets: both the server and the load generator hold one descriptor per client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
idle_max=$(( fd_limit - 1000 ))
(( idle_max > 100000 )) && idle_max=100000

# ---- throwaway databases: one database per target, same schema -----------------------------

log "starting PostgreSQL (synchronous_commit on, fsync off; esink's capture: $pg_capture)"
# PostgreSQL's default commit (the WAL written at each commit; fsync off keeps the disk out of
# the comparison). Both targets use the same server.
ESINK_PG_SYNCHRONOUS_COMMIT=on "$root/tests/fixtures/postgres/pg_fixture.sh" start "$state/pg" >/dev/null
pg_url=$(sed -n 's/^url=//p' "$state/pg/postgres.env")
pg_base=${pg_url%/*}
pg_pid=$(head -1 "$(cat "$state/pg/postgres.dir")/data/postmaster.pid")
for db in bench_esink bench_node; do
  psql -X -q "$pg_base/postgres" -c "CREATE DATABASE $db" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 "$pg_base/$db" -f "$here/pg_schema.sql" >/dev/null
done

my_env=""
my_pid=0
if wants mariadb; then
  log "starting MariaDB"
  "$root/tests/fixtures/mariadb/mariadb_fixture.sh" start "$state/mariadb" >/dev/null
  my_env=$state/mariadb/mariadb.env
  my_host=$(sed -n 's/^MYSQL_HOST=//p' "$my_env"); my_port=$(sed -n 's/^MYSQL_PORT=//p' "$my_env")
  my_user=$(sed -n 's/^MYSQL_USERNAME=//p' "$my_env"); my_pw=$(sed -n 's/^MYSQL_PASSWORD=//p' "$my_env")
  my_sock=$(sed -n 's/^ESINK_TEST_MARIADB_SOCKET=//p' "$my_env")
  my_pid=$(cat "$(dirname "$my_sock")/mysqld.pid")
  for db in bench_esink bench_node; do
    mariadb --no-defaults --socket="$my_sock" -uroot -e \
      "CREATE DATABASE $db; GRANT ALL PRIVILEGES ON $db.* TO '$my_user'@'127.0.0.1';"
    mariadb --no-defaults --socket="$my_sock" -uroot "$db" <"$here/mariadb_schema.sql"
  done
fi

# Below the ephemeral range (32768+), which the load generator's 20,000 sockets sweep through.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "run.sh: no free port" >&2; exit 1
}

# start_server TARGET DB(pg|mariadb) LOG: starts a fresh server; sets server_pid, server_port.
start_server() {
  local target=$1 db=$2 logf=$3 port
  port=$(free_port)
  local -a envs=(PORT="$port" "TABLE_NAMES=bench_rows,bench_all" AUTH_TABLE=bench_users AUTH_COLUMN=token
    'TABLE_AUTH_COLUMN_ROUTING={"bench_rows":"owner","bench_all":"*"}' SECURITY_TOKEN=bench-secret
    NODE_ENV=production)
  local dbname=bench_node
  [[ $target == esink ]] && dbname=bench_esink
  if [[ $db == pg ]]; then
    envs+=(POSTGRES_DATABASE_URL="$pg_base/$dbname" ESINK_PG_CAPTURE="$pg_capture")
  else
    envs+=(MYSQL_DATABASE="$dbname" MYSQL_HOST="$my_host" MYSQL_PORT="$my_port" MYSQL_USERNAME="$my_user"
      MYSQL_PASSWORD="$my_pw" MYSQL_TABLE_TARGET=esink_pubsub)
  fi
  local -a cmd
  if [[ $target == esink ]]; then cmd=("$service"); else cmd=(node "$here/baseline/server.js"); fi
  # The wrapper records the server's own pid (CPU and RSS are read from /proc/PID).
  env "${envs[@]}" sh -c 'echo $$ > "$0"; exec "$@"' "$state/server.pid" "${cmd[@]}" >"$logf" 2>&1 &
  local waited=0
  until grep -q '^listening on port' "$logf" 2>/dev/null; do
    sleep 0.1; waited=$((waited + 1))
    if (( waited > 300 )) || ! kill -0 $! 2>/dev/null; then
      echo "run.sh: $target did not start:" >&2; tail -5 "$logf" >&2; exit 1
    fi
  done
  server_pid=$(cat "$state/server.pid")
  server_port=$port
  servers+=("$server_pid")
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  local gone=0 p
  for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || { gone=1; break; }; sleep 0.1; done
  (( gone )) || kill -KILL "$server_pid" 2>/dev/null || true
  local -a left=()
  for p in "${servers[@]}"; do [[ $p == "$server_pid" ]] || left+=("$p"); done
  servers=("${left[@]}")
}

failures=0
# run_scenario NAME DB LOADGEN_ARGS...: one run per target; output in $out/NAME-TARGET.log
run_scenario() {
  local name=$1 db=$2; shift 2
  local target
  for target in esink baseline; do
    target_wanted "$target" || continue
    local dbname=bench_node
    [[ $target == esink ]] && dbname=bench_esink
    local -a prod=()
    if [[ $db == pg ]]; then prod=(--pg-url "$pg_base/$dbname" --db-pid "$pg_pid")
    else prod=(--mysql "$my_host:$my_port:$my_user:$my_pw:$dbname" --db-pid "$my_pid"); fi
    log "$name: $target"
    start_server "$target" "$db" "$out/$name-$target.server.log"
    local rc=0
    timeout 300 "$loadgen" --port "$server_port" --server-pid "$server_pid" --label "$name-$target" \
      "${prod[@]}" "$@" >"$out/$name-$target.log" 2>&1 || rc=$?
    stop_server
    grep -E '^\[|^!!!' "$out/$name-$target.log" | sed 's/^/   /' >&2 || true
    if (( rc != 0 )); then
      failures=$((failures + 1))
      echo "!!! $name on $target FAILED (exit $rc): see $out/$name-$target.log" >&2
    fi
  done
}

s() { if [[ $quick -eq 1 ]]; then echo "$2"; else echo "$1"; fi; }  # s FULL QUICK

if wants loadgen; then
  # The load generator alone: it serves itself (blast), then against socketio_echo's broadcast.
  log "loadgen: self-test (blast) and socketio_echo broadcast"
  "$loadgen" --producer blast --clients 1000 --threads 1 --events-per-row 1 --broadcast \
    --rates "$(s 1000,2000,4000 1000,2000)" --step-seconds 2 --stop-p99-ms 100 --label loadgen-blast \
    >"$out/loadgen-blast.log" 2>&1 || { failures=$((failures + 1)); echo "!!! loadgen self-test FAILED" >&2; }
  if [[ -x $echo_server ]]; then
    sh -c 'echo $$ > "$0"; exec "$@"' "$state/echo.pid" "$echo_server" --port 0 >"$out/echo.server.log" 2>&1 &
    for _ in $(seq 1 100); do grep -q '^listening on port' "$out/echo.server.log" && break; sleep 0.1; done
    echo_pid=$(cat "$state/echo.pid"); servers+=("$echo_pid")
    "$loadgen" --producer echo --port "$(awk '/^listening on port/ {print $4}' "$out/echo.server.log")" \
      --server-pid "$echo_pid" --clients 1000 --threads 1 --events-per-row 1 --broadcast \
      --rates "$(s 100,200,400,800,1600 200,800)" --step-seconds 2 --stop-p99-ms 100 --label loadgen-echo \
      >"$out/loadgen-echo.log" 2>&1 || { failures=$((failures + 1)); echo "!!! loadgen vs socketio_echo FAILED" >&2; }
    kill -TERM "$echo_pid" 2>/dev/null || true
  fi
fi

if wants fanout; then
  run_scenario fanout pg --producer pg --table bench_rows --clients 1000 --users 500 \
    --rates 2000 --step-seconds "$(s 10 3)" --row-bytes 200
fi
if wants broadcast; then
  run_scenario broadcast pg --producer pg --table bench_all --broadcast --clients 1000 \
    --rates "$(s 10,15,20,30,40,60,80,120,160,240,320,480,640,960,1280,1920,2560 20,80,320,1280)" --step-seconds "$(s 3 2)" --stop-p99-ms 100 \
    --row-bytes 200 --drain-seconds 15
fi
if wants publish; then
  run_scenario publish pg --producer publish --publish-token bench-secret --table bench_rows \
    --clients 100 --users 100 --publish-connections 32 --publish-seconds "$(s 5 2)" --row-bytes 200
fi
if wants idle; then
  run_scenario idle pg --producer pg --table bench_all --broadcast --clients 10000 --users 10000 \
    --idle-seconds "$(s 26 2)" --rates 5 --step-seconds 2 --max-inflight 256
fi
if wants idle-max; then
  run_scenario idle-max pg --producer pg --table bench_all --broadcast --clients "$idle_max" \
    --users 100000 --idle-seconds "$(s 5 2)" --rates 5 --step-seconds 2 --max-inflight 256 --connect-timeout 90
fi
if wants slow; then
  # One client stops reading while 20 keep up; 400 rows/s of 4 KB to everyone (3.2 MB/s each).
  run_scenario slow pg --producer pg --table bench_all --broadcast --clients 21 --slow-clients 1 \
    --rates 400 --step-seconds "$(s 15 4)" --row-bytes 4000
  run_scenario slow-control pg --producer pg --table bench_all --broadcast --clients 21 \
    --rates 400 --step-seconds "$(s 15 4)" --row-bytes 4000
fi
if wants mariadb; then
  run_scenario mariadb mariadb --producer mysql --table bench_rows --clients 1000 --users 500 \
    --rates 2000 --step-seconds "$(s 10 3)" --row-bytes 200
fi

# ---- tables ------------------------------------------------------------------------------------
# field FILE KEY [STEP]: a value from the RESULT line, or from the STEP line STEP ("best" = the
# ramp's best step).
field() {
  local f=$1 key=$2 step=${3:-}
  [[ -f $f ]] || { echo "-"; return; }
  if [[ -z $step ]]; then
    sed -n "s/^RESULT .* $key=\([^ ]*\).*/\1/p" "$f" | head -1
  else
    if [[ $step == best ]]; then step=$(sed -n 's/^RESULT .* best_step=\([^ ]*\).*/\1/p' "$f"); fi
    [[ -z $step || $step == -1 ]] && { echo "-"; return; }
    sed -n "s/^STEP .* step=$step .* $key=\([^ ]*\).*/\1/p; s/^STEP .* step=$step $key=\([^ ]*\).*/\1/p" "$f" | head -1
  fi
}

# row LABEL SCENARIO KEY [STEP]
row() {
  local label=$1 sc=$2 key=$3 step=${4:-}
  local a b
  a=$(field "$out/$sc-esink.log" "$key" "$step"); b=$(field "$out/$sc-baseline.log" "$key" "$step")
  a=${a:--}; b=${b:--}
  local r="-"
  if [[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]]; then
    r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }')
  fi
  printf '| %-44s | %12s | %12s | %8s |\n' "$label" "$a" "$b" "$r"
}
header() {
  echo
  echo "### $1"
  printf '| %-44s | %12s | %12s | %8s |\n' "metric" "esink" "baseline" "ratio"
  printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "--------------" "--------------" "----------"
}
latency_rows() {  # latency_rows SCENARIO STEP
  row "delivered events/s (higher is better)" "$1" eps "$2"
  row "latency p50 ms" "$1" p50_ms "$2"
  row "latency p95 ms" "$1" p95_ms "$2"
  row "latency p99 ms (lower is better)" "$1" p99_ms "$2"
  row "latency max ms" "$1" max_ms "$2"
  row "server CPU % of one core" "$1" server_cpu "$2"
  row "server peak RSS MiB" "$1" server_rss_mb "$2"
  row "database CPU %" "$1" db_cpu "$2"
  row "loadgen CPU % (client threads)" "$1" client_threads_cpu "$2"
}

{
  echo
  echo "## Results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if wants loadgen; then
    echo
    echo "### Load generator capacity (1,000 clients, 1 client thread, every event checked)"
    printf '| %-44s | %12s | %12s | %8s |\n' "server" "events/s" "p99 ms" "client CPU"
    printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "--------------" "--------------" "----------"
    for lg in blast echo; do
      f=$out/loadgen-$lg.log
      [[ -f $f ]] || continue
      printf '| %-44s | %12s | %12s | %8s |\n' \
        "$( [[ $lg == blast ]] && echo "itself (pre-encoded frames, best step)" || echo "socketio_echo broadcast (best step)")" \
        "$(field "$f" eps best)" "$(field "$f" p99_ms best)" "$(field "$f" client_threads_cpu best)"
    done
  fi
  if wants fanout; then
    header "Routed fan-out: PostgreSQL, 1,000 clients (500 users), 2,000 rows/s of 200 B, random owner"
    latency_rows fanout 0
    row "lost + duplicated + misdelivered" fanout delivery_errors
  fi
  if wants broadcast; then
    header "Broadcast (\"*\"): 1,000 clients, rate raised until p99 > 100 ms; best step shown"
    row "rows/s at the best step" broadcast rate best
    latency_rows broadcast best
  fi
  if wants publish; then
    header "POST /publish: 32 keep-alive connections, closed loop, 100 clients listening"
    row "accepted requests/s (higher is better)" publish publish_rps
    row "TCP connections opened" publish publish_connections
    row "request p50 ms" publish publish_p50_ms
    row "request p99 ms" publish publish_p99_ms
    row "delivered events/s" publish eps 0
    row "event latency p99 ms" publish p99_ms 0
    row "server CPU %" publish server_cpu 0
    row "server peak RSS MiB" publish rss_peak_mb
  fi
  for sc in idle idle-max; do
    wants "$sc" || continue
    header "Idle connections: $( [[ $sc == idle ]] && echo 10,000 || echo "$idle_max (fd limit $fd_limit)")"
    row "connected" "$sc" connected
    row "connect rate conn/s (higher is better)" "$sc" connect_rate
    row "server memory per connection KiB (lower)" "$sc" per_conn_kb
    row "server RSS connected MiB" "$sc" rss_connected_mb
    row "server idle CPU %" "$sc" idle_server_cpu
    row "broadcast latency p99 ms (all clients)" "$sc" p99_ms 0
    row "lost + duplicated + misdelivered" "$sc" delivery_errors
  done
  if wants slow; then
    header "Slow consumer: 1 client stops reading, 20 read; 400 rows/s of 4 KB to all"
    row "server peak RSS MiB, slow client present" slow rss_peak_mb
    row "server peak RSS MiB, no slow client" slow-control rss_peak_mb
    row "server RSS at end MiB, slow client present" slow rss_end_mb
    row "slow client disconnected by server (1 = yes)" slow stalled_cut
    row "MiB the slow client could still read" slow stalled_mb
    row "others' p99 ms, slow client present" slow p99_ms 0
    row "others' p99 ms, no slow client" slow-control p99_ms 0
    row "lost + duplicated + misdelivered (others)" slow delivery_errors
  fi
  if wants mariadb; then
    header "Routed fan-out: MariaDB, 1,000 clients (500 users), 2,000 rows/s of 200 B"
    latency_rows mariadb 0
    row "lost + duplicated + misdelivered" mariadb delivery_errors
  fi
  echo
  echo "Raw output: $out"
} | tee "$out/results.md"

if (( failures > 0 )); then
  echo
  echo "!!!!!!!! $failures RUN(S) FAILED THE DELIVERY CHECK OR DID NOT COMPLETE: see the logs above !!!!!!!!"
  exit 1
fi
