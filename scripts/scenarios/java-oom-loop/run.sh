#!/usr/bin/env bash
# java-oom-loop: a Java service with -Xmx48m -XX:+ExitOnOutOfMemoryError runs out
# of heap on one request, the JVM exits ("Terminating due to
# java.lang.OutOfMemoryError: Java heap space"), a restart loop brings it back
# 3 s later; nginx 502 meanwhile. cause runtime_oom.
NAME=java-oom-loop
source "$(dirname "$0")/../common/lib.sh"
NGX=18596 APP=18597
HERE="$(cd "$(dirname "$0")" && pwd)"

port_free $NGX $APP
prepare
mkdir -p "$WORK/classes"
javac -d "$WORK/classes" "$HERE/Ledger.java"
nginx_proxy ledger.local "http://127.0.0.1:$APP"

supervise app $APP app.log java -Xmx48m -XX:+ExitOnOutOfMemoryError -cp "$WORK/classes" Ledger
nginx_up
mark "ledger (Java, -Xmx48m, ExitOnOutOfMemoryError) under restart loop on 127.0.0.1:$APP, nginx on 127.0.0.1:$NGX; steady load begins"
load_start --base "http://127.0.0.1:$NGX" --rate 10 --duration 40 --paths '/api/balance=6,/api/entries/9=3,/nope=1'
sleep 15
trigger /api/reconcile "loads everything into the heap"
wind_down

cat >"$WORK/README.in" <<MD
# java-oom-loop

A Java service (\`Ledger.java\`, the JDK's built-in HTTP server, $(java -version 2>&1 | head -1)) runs with
\`-Xmx48m -XX:+ExitOnOutOfMemoryError\` under the restart loop of crash-loop (\`supervise.sh\`, 3 s), behind
nginx (\`127.0.0.1:$NGX\` -> \`127.0.0.1:$APP\`). Under a steady 10 requests/s, one request to
\`/api/reconcile\` loads 1 MiB arrays until the heap is full: the JVM prints "Terminating due to
java.lang.OutOfMemoryError: Java heap space" (no timestamp) and exits with code 3; the loop restarts it.
nginx answers 502 until the new JVM listens. The kernel is not involved: the runtime ran out.

Files: \`access.log\`, \`error.log\` (nginx), \`app.log\` (the service's stdout/stderr: logback-style lines
\`2026-11-25 17:55:01.123 INFO  [main] ledger.Ledger - ...\`, local time without zone, the machine is UTC;
the JVM's OOM line; the loop's ISO UTC lines).

Regenerate: \`scripts/scenarios/java-oom-loop/run.sh\` (needs a JDK: javac).
MD
finish --copy access.log --copy error.log --copy app.log \
  --expect 'app.log:OutOfMemoryError' \
  --incident "upstream=127.0.0.1:$APP;cause=runtime_oom;match=ua=127.0.0.1:$APP" \
  --description "Java service runs out of heap (-Xmx48m, ExitOnOutOfMemoryError), restarted 3 s later by a loop; nginx 502 meanwhile" \
  --notes "The JVM's 'Terminating due to java.lang.OutOfMemoryError: Java heap space' line has no timestamp." \
  --readme "$WORK/README.in"
