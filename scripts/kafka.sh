#!/usr/bin/env bash
# scripts/kafka.sh up|down|status|env|clean: a single-node Apache Kafka broker
# (KRaft, no ZooKeeper) on 127.0.0.1 for tests, benchmarks and demos.
#
# The broker jars come from Maven Central (scripts/kafka/pom.xml, fetched once
# into scripts/kafka/lib/), the storage lives under .stack/kafka, and the
# broker runs with the machine's Java. Every command is idempotent.
#
# A private instance (a test that stops its own broker) sets
#   KAFKA_PORT=19094 KAFKA_CONTROLLER_PORT=19095 KAFKA_DIR=/tmp/x scripts/kafka.sh up
# (and KAFKA_SASL_PORT=19096 for a SASL listener).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
kdir=$here/kafka
lib=$kdir/lib
port=${KAFKA_PORT:-19092}
cport=${KAFKA_CONTROLLER_PORT:-19093}
dir=${KAFKA_DIR:-$root/.stack/kafka}
heap=${KAFKA_HEAP:-512m}
# KAFKA_SASL_PORT adds a SASL_PLAINTEXT listener with user culprit /
# culprit-secret for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (tests only).
sasl_port=${KAFKA_SASL_PORT:-}
# KAFKA_SSL_PORT adds an SSL listener with a throwaway CA ($dir/tls/ca.pem).
ssl_port=${KAFKA_SSL_PORT:-}
# A loaded 2-core machine has taken a minute to start the JVM broker.
timeout=${KAFKA_START_TIMEOUT:-180}
pidfile=$dir/kafka.pid
addr=127.0.0.1:$port
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

log() { echo "kafka: $*" >&2; }

running() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q kafka.Kafka "/proc/$pid/cmdline" 2>/dev/null
}

# answers: the broker serves metadata (kcat is the independent client; a TCP
# connect is the fallback where kcat is missing).
answers() {
  if command -v kcat >/dev/null; then
    kcat -L -b "$addr" -m 2 >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# fetch the jars unless lib/ already holds those of the current pom.
fetch() {
  local stamp; stamp=$(sha256sum "$kdir/pom.xml" | cut -c1-16)
  if [ -f "$lib/.pom-$stamp" ]; then return; fi
  log "fetching broker jars from Maven Central (scripts/kafka/pom.xml)"
  command -v mvn >/dev/null || { log "mvn missing: run scripts/deps.sh"; exit 1; }
  rm -rf "$lib"
  local t0=$SECONDS
  local out; out=$(mktemp)
  if ! (cd "$kdir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies) >"$out" 2>&1; then
    cat "$out" >&2; rm -f "$out"; log "mvn failed"; exit 1
  fi
  rm -f "$out"
  touch "$lib/.pom-$stamp"
  log "jars fetched in $((SECONDS - t0)) s"
}

# tls: a throwaway CA and a server certificate for 127.0.0.1 (tests only);
# clients trust $dir/tls/ca.pem.
tls() {
  [ -f "$dir/tls/server-keystore.pem" ] && return
  mkdir -p "$dir/tls"
  (
    cd "$dir/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 7 -subj "/CN=culprit test CA"
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 7 -extfile ext.cnf
    cat server.key server.pem >server-keystore.pem
  ) >"$dir/logs/tls.log" 2>&1 || { cat "$dir/logs/tls.log" >&2; log "making test certificates failed"; exit 1; }
}

configure() {
  mkdir -p "$dir/data" "$dir/logs"
  [ -z "$ssl_port" ] || tls
  # Java properties: a later key wins, so the overrides follow the base file.
  {
    cat "$kdir/server.properties"
    echo
    echo "# instance overrides (scripts/kafka.sh)"
    echo "controller.quorum.voters=1@127.0.0.1:$cport"
    echo "log.dirs=$dir/data"
    # Extra listeners for tests of the shipper's SASL and TLS options.
    local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport" adv="PLAINTEXT://127.0.0.1:$port"
    local map="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    if [ -n "$sasl_port" ]; then
      listeners+=",SASL_PLAINTEXT://127.0.0.1:$sasl_port"; adv+=",SASL_PLAINTEXT://127.0.0.1:$sasl_port"
      map+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
      echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
      echo "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_culprit=\"culprit-secret\";"
      echo "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    fi
    if [ -n "$ssl_port" ]; then
      listeners+=",SSL://127.0.0.1:$ssl_port"; adv+=",SSL://127.0.0.1:$ssl_port"
      map+=",SSL:SSL"
      echo "listener.name.ssl.ssl.keystore.type=PEM"
      echo "listener.name.ssl.ssl.keystore.location=$dir/tls/server-keystore.pem"
    fi
    echo "listeners=$listeners"
    echo "advertised.listeners=$adv"
    echo "listener.security.protocol.map=$map"
  } >"$dir/server.properties"
  local scram=()
  if [ -n "$sasl_port" ]; then
    scram=(--add-scram 'SCRAM-SHA-256=[name=culprit,password=culprit-secret]'
           --add-scram 'SCRAM-SHA-512=[name=culprit,password=culprit-secret]')
  fi
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id; id=$("$java" -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    "$java" -cp "$lib/*" -Dlog4j2.configurationFile="$kdir/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
      kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" "${scram[@]}" >"$dir/logs/format.log" 2>&1 ||
      { cat "$dir/logs/format.log" >&2; log "formatting $dir/data failed"; exit 1; }
  fi
}

up() {
  if running && answers; then log "running on $addr (pid $(cat "$pidfile"))"; return; fi
  if running; then
    log "pid $(cat "$pidfile") exists but $addr does not answer yet; waiting"
  else
    command -v "$java" >/dev/null || { log "java missing: run scripts/deps.sh"; exit 1; }
    fetch
    configure
    # setsid: the broker must outlive the shell that started it (make test).
    setsid "$java" -Xms128m -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$kdir/log4j2.properties" \
      -Dkafka.logs.dir="$dir/logs" -cp "$lib/*" kafka.Kafka "$dir/server.properties" \
      </dev/null >"$dir/logs/stdout.log" 2>&1 &
    echo $! >"$pidfile"
  fi
  local t0=$SECONDS
  until answers; do
    if ! running; then
      tail -n 30 "$dir/logs/server.log" "$dir/logs/stdout.log" >&2 2>/dev/null || true
      log "broker exited during start-up (logs in $dir/logs)"; exit 1
    fi
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then log "no answer on $addr after $timeout s (logs in $dir/logs)"; exit 1; fi
    sleep 0.5
  done
  log "up on $addr (pid $(cat "$pidfile"), $((SECONDS - t0)) s)"
}

down() {
  if ! running; then rm -f "$pidfile"; log "not running"; return; fi
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then log "pid $pid ignored SIGTERM for 30 s; killing"; kill -KILL "$pid"; fi
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}

case "${1:-status}" in
  up) up ;;
  down) down ;;
  status)
    if running && answers; then echo "kafka: up on $addr (pid $(cat "$pidfile"), data $dir)"
    elif running; then echo "kafka: pid $(cat "$pidfile") running but $addr does not answer"
    else echo "kafka: down"; fi ;;
  env) echo "export CULPRIT_TEST_KAFKA=$addr" ;;
  fetch) fetch ;;
  clean) down; rm -rf "$dir"; log "removed $dir" ;;
  *) echo "usage: scripts/kafka.sh up|down|status|env|fetch|clean" >&2; exit 2 ;;
esac
