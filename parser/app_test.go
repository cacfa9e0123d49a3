package parser

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// appCase picks one line (or grouped trace) of a real capture by a substring
// of its first line, and states what it must become. want is a list of
// "field=value" (pid, signal, exit, app, dep, up, mem, level, msg (a prefix
// of Message), ts (RFC 3339)); fields not named must be empty.
type appCase struct {
	file  string // under testdata/
	match string // substring of the group's first line; the n-th match with "#n" suffix
	src   Source // the source auto detection must find
	class Class
	want  string
}

// The ground truth is what each capture script caused (see the README next
// to each capture): e.g. gunicorn.sh ran two 5 s requests against
// --timeout 2 (two WORKER TIMEOUTs) and SIGKILLed one worker.
var appCases = []appCase{
	// PM2 daemon log (scripts/reallogs/apps/pm2.sh).
	{"pm2/pm2.log", "App [crasher:0] exited with code [1]", SourcePM2, ClassProcessExit, "app=crasher exit=1 ts=2026-11-25T16:35:32Z"},
	{"pm2/pm2.log", "App [api:2] exited with code [0] via signal [SIGKILL]", SourcePM2, ClassProcessExit, "app=api signal=SIGKILL"},
	{"pm2/pm2.log", "App [memhog:1] exited with code [0] via signal [SIGINT]", SourcePM2, ClassProcessExit, "app=memhog exit=0 signal=SIGINT"},
	{"pm2/pm2.log", "App [crasher:0] starting in -fork mode-", SourcePM2, ClassStart, "app=crasher"},
	{"pm2/pm2.log", "App [api:2] online", SourcePM2, ClassOther, "app=api"},
	{"pm2/pm2.log", "current_memory=142585856", SourcePM2, ClassMemoryLimitRestart, "mem=139244 msg=[PM2][WORKER] Process 1 restarted"},
	{"pm2/pm2.log", "current_memory=125349888", SourcePM2, ClassMemoryLimitRestart, "mem=122412"},
	{"pm2/pm2.log", "too many unstable restarts", SourcePM2, ClassStop, "process=/tmp/apps/pm2/crasher.js"},
	{"pm2/pm2.log", "Stopping app:api id:2", SourcePM2, ClassStop, "app=api"},
	{"pm2/pm2.log", "Process 1 in a stopped status, starting it", SourcePM2, ClassRestart, ""},
	{"pm2/pm2.log", "pid=14442 msg=process killed", SourcePM2, ClassOther, "pid=14442"},
	{"pm2/pm2.log", "PM2 error: app=crasher id=0 does not have a pid", SourcePM2, ClassOther, "app=crasher level=error"},
	{"pm2/pm2.log", "PM2 successfully stopped", SourcePM2, ClassStop, "process=PM2"},
	// PM2 app logs with `time: true`: the Node crash is one grouped event.
	{"pm2/crasher-error.log", "Error: boom", SourcePM2, ClassCrash, "process=node msg=Error: boom: unhandled failure in crasher ts=2026-11-25T16:35:32Z"},
	{"pm2/api-out.log", "listening on port 18301", SourcePM2, ClassStart, "process=node up=:18301"},
	{"pm2/memhog-out.log", "memhog holds 8 MB", SourcePM2, ClassOther, "process=node"},

	// gunicorn 20.1 (scripts/reallogs/apps/gunicorn.sh).
	{"gunicorn/error.log", "WORKER TIMEOUT (pid:16599)", SourceGunicorn, ClassWorkerTimeout, "pid=16599 process=gunicorn level=CRITICAL ts=2026-11-25T16:36:30Z"},
	{"gunicorn/error.log", "WORKER TIMEOUT (pid:16600)", SourceGunicorn, ClassWorkerTimeout, "pid=16600 process=gunicorn level=CRITICAL"},
	{"gunicorn/error.log", "was terminated due to signal 9", SourceGunicorn, ClassWorkerKilled, "pid=16673 signal=SIGKILL process=gunicorn level=WARNING"},
	{"gunicorn/error.log", "Worker exiting (pid: 16599)", SourceGunicorn, ClassStop, "pid=16599 process=gunicorn level=INFO"},
	{"gunicorn/error.log", "Booting worker with pid: 16673", SourceGunicorn, ClassStart, "pid=16673 process=gunicorn level=INFO"},
	{"gunicorn/error.log", "Listening at: http://127.0.0.1:18310", SourceGunicorn, ClassStart, "pid=16593 up=127.0.0.1:18310 process=gunicorn level=INFO"},
	{"gunicorn/error.log", "Handling signal: term", SourceGunicorn, ClassStop, "pid=16593 signal=SIGTERM process=gunicorn level=INFO"},
	{"gunicorn/error.log", "Shutting down: Master", SourceGunicorn, ClassStop, "pid=16593 process=gunicorn level=INFO"},
	{"gunicorn/error.log", "Using worker: sync", SourceGunicorn, ClassOther, "pid=16593 process=gunicorn level=INFO"},
	{"gunicorn/addrinuse.log", "Connection in use: ('127.0.0.1', 18310)", SourceGunicorn, ClassListenError, "pid=16848 up=127.0.0.1:18310 process=gunicorn level=ERROR"},
	{"gunicorn/addrinuse.log", "Can't connect to ('127.0.0.1', 18310)", SourceGunicorn, ClassListenError, "pid=16848 up=127.0.0.1:18310 process=gunicorn level=ERROR"},
	{"gunicorn/boot-failure.log", "Exception in worker process", SourceGunicorn, ClassCrash, "pid=3342 process=gunicorn level=ERROR msg=Exception in worker process"},
	{"gunicorn/boot-failure.log", "Reason: Worker failed to boot.", SourceGunicorn, ClassCrash, "pid=3292 process=gunicorn level=INFO"},
	{"gunicorn/hup.log", "Handling signal: hup", SourceGunicorn, ClassRestart, "pid=21216 signal=SIGHUP process=gunicorn level=INFO"},
	{"gunicorn/hup.log", "Hang up: Master", SourceGunicorn, ClassRestart, "pid=21216 process=gunicorn level=INFO"},
	{"gunicorn/hup.log", "terminated due to signal 15", SourceGunicorn, ClassStop, "pid=21226 signal=SIGTERM process=gunicorn level=WARNING"},
	// gunicorn >= 20.1 wording, from https://github.com/benoitc/gunicorn/pull/2419.
	{"gunicorn/public.log", "Worker (pid:21) was sent SIGKILL!", SourceGunicorn, ClassWorkerKilled, "pid=21 signal=SIGKILL process=gunicorn level=ERROR ts=2020-09-12T05:37:52Z"},
	{"gunicorn/public.log", "Worker (pid:22) was sent SIGKILL!", SourceGunicorn, ClassWorkerKilled, "pid=22 signal=SIGKILL process=gunicorn level=ERROR"},

	// uWSGI 2.0.21 (scripts/reallogs/apps/uwsgi.sh).
	{"uwsgi/uwsgi.log", "HARAKIRI ON WORKER 1 (pid: 17623", SourceUWSGI, ClassWorkerTimeout, "pid=17623 process=uwsgi ts=2026-11-25T16:36:58Z"},
	{"uwsgi/uwsgi.log", "HARAKIRI ON WORKER 2 (pid: 17822", SourceUWSGI, ClassWorkerTimeout, "pid=17822 process=uwsgi"},
	{"uwsgi/uwsgi.log", "DAMN ! worker 1 (pid: 17623) died, killed by signal 9", SourceUWSGI, ClassWorkerKilled, "pid=17623 signal=SIGKILL process=uwsgi"},
	{"uwsgi/uwsgi.log", "DAMN ! worker 2 (pid: 17957) died", SourceUWSGI, ClassWorkerKilled, "pid=17957 signal=SIGKILL process=uwsgi"},
	{"uwsgi/uwsgi.log", "Respawned uWSGI worker 1 (new pid: 17821)", SourceUWSGI, ClassRestart, "pid=17821 process=uwsgi"},
	{"uwsgi/uwsgi.log", "listen queue of socket \"127.0.0.1:18320\" (fd: 3) full", SourceUWSGI, ClassPoolSaturated, "up=127.0.0.1:18320 process=uwsgi ts=2026-11-25T16:37:00Z"},
	{"uwsgi/uwsgi.log", "spawned uWSGI worker 1 (pid: 17623", SourceUWSGI, ClassStart, "pid=17623 process=uwsgi"},
	{"uwsgi/uwsgi.log", "*** Starting uWSGI", SourceUWSGI, ClassStart, "process=uwsgi ts=2026-11-25T16:36:55Z"},
	{"uwsgi/uwsgi.log", "SIGINT/SIGTERM received", SourceUWSGI, ClassStop, "process=uwsgi"},
	{"uwsgi/uwsgi.log", "goodbye to uWSGI", SourceUWSGI, ClassStop, "process=uwsgi"},
	{"uwsgi/uwsgi.log", "[pid: ", SourceUWSGI, ClassOther, "pid=* process=uwsgi ts=*"},
	{"uwsgi/rss.log", "EVIL RELOAD ON WORKER 1#1", SourceUWSGI, ClassMemoryLimitRestart, "pid=4976 mem=103272 process=uwsgi"},
	{"uwsgi/rss.log", "EVIL RELOAD ON WORKER 1#2", SourceUWSGI, ClassMemoryLimitRestart, "pid=5167 mem=103272 process=uwsgi"},
	{"uwsgi/rss.log", "DAMN ! worker 1 (pid: 4976)", SourceUWSGI, ClassWorkerKilled, "pid=4976 signal=SIGKILL process=uwsgi"},
	{"uwsgi/rss.log", "{address space usage: 163627008 bytes/156MB}#2", SourceUWSGI, ClassOther, "pid=5167 mem=103272 process=uwsgi ts=2026-11-25T17:12:51Z"},
	{"uwsgi/addrinuse.log", "bind(): Address already in use", SourceUWSGI, ClassListenError, "process=uwsgi"},
	{"uwsgi/addrinuse.log", "probably another instance of uWSGI", SourceUWSGI, ClassListenError, "up=127.0.0.1:18320 process=uwsgi"},

	// php-fpm 8.2 (scripts/reallogs/apps/phpfpm.sh).
	{"php_fpm/fpm.log", "server reached pm.max_children setting (2)", SourcePHPFPM, ClassPoolSaturated, "app=www level=WARNING process=php-fpm ts=2026-11-25T16:37:56Z"},
	{"php_fpm/fpm.log", "seems busy", SourcePHPFPM, ClassPoolSaturated, "app=busy level=WARNING process=php-fpm"},
	{"php_fpm/fpm.log", "child 19359, script", SourcePHPFPM, ClassWorkerTimeout, "app=www pid=19359 request=GET /sleep.php?s=5 level=WARNING process=php-fpm"},
	{"php_fpm/fpm.log", "child 19277, script", SourcePHPFPM, ClassWorkerTimeout, "app=www pid=19277 request=GET /sleep.php?s=5 level=WARNING process=php-fpm"},
	{"php_fpm/fpm.log", "child 19278 exited on signal 9 (SIGKILL)", SourcePHPFPM, ClassWorkerKilled, "app=busy pid=19278 signal=SIGKILL level=WARNING process=php-fpm"},
	{"php_fpm/fpm.log", "child 19277 exited on signal 15 (SIGTERM)", SourcePHPFPM, ClassWorkerKilled, "app=www pid=19277 signal=SIGTERM level=WARNING process=php-fpm"},
	{"php_fpm/fpm.log", "child 19475 started", SourcePHPFPM, ClassStart, "app=www pid=19475 level=NOTICE process=php-fpm"},
	{"php_fpm/fpm.log", "fpm is running, pid 19253", SourcePHPFPM, ClassStart, "pid=19253 level=NOTICE process=php-fpm"},
	{"php_fpm/fpm.log", "ready to handle connections", SourcePHPFPM, ClassStart, "level=NOTICE process=php-fpm"},
	{"php_fpm/fpm.log", "said into stderr", SourcePHPFPM, ClassRuntimeOOM, "app=tcp pid=19281 mem=4096 level=Fatal error process=php-fpm"},
	{"php_fpm/fpm.log", "Finishing ...", SourcePHPFPM, ClassStop, "level=NOTICE process=php-fpm"},
	{"php_fpm/fpm.log", "exiting, bye-bye!", SourcePHPFPM, ClassStop, "level=NOTICE process=php-fpm"},
	{"php_fpm/bind.log", "unable to bind listening socket", SourcePHPFPM, ClassListenError, "up=127.0.0.1:18331 level=ERROR process=php-fpm"},
	{"php_fpm/bind.log", "FPM initialization failed", SourcePHPFPM, ClassProcessExit, "level=ERROR process=php-fpm"},
	{"php_fpm/public.log", "WARNING: [pool www] server reached pm.max_children", SourcePHPFPM, ClassPoolSaturated, "app=www level=WARNING process=php-fpm"},
	{"php_fpm/public.log", "NOTICE: Finishing", SourcePHPFPM, ClassStop, "level=NOTICE process=php-fpm"},
	{"php_fpm/public.log", "child 10 started", SourcePHPFPM, ClassStart, "app=www pid=10 level=DEBUG process=php-fpm ts=2018-05-28T10:31:16Z"},
	{"php_fpm/public.log", "server reached max_children setting (8)", SourcePHPFPM, ClassPoolSaturated, "app=example.com level=WARNING process=php-fpm"},
	{"php_fpm/php-cli-error.log", "Maximum execution time of 1 second exceeded", SourcePHPFPM, ClassWorkerTimeout, "process=php level=Fatal error ts=2026-11-25T17:35:27Z"},
	{"php_fpm/php-cli-error.log", "redis connect failed: Connection refused (111)", SourcePHPFPM, ClassDependencyRefused, "process=php"},
	{"php_fpm/php-cli-error.log", "Uncaught RuntimeException: cache unavailable", SourcePHPFPM, ClassCrash, "process=php level=Fatal error msg=Uncaught RuntimeException: cache unavailable"},
	{"php_fpm/php-error.log", "Allowed memory size of 8388608 bytes", SourcePHPFPM, ClassRuntimeOOM, "mem=8192 level=Fatal error process=php msg=Allowed memory size ts=2026-11-25T16:38:13Z"},

	// Node.js 20 (scripts/reallogs/apps/node.sh).
	{"node/heap-oom.log", "<--- Last few GCs --->", SourceNode, ClassRuntimeOOM, "pid=22294 mem=20582 process=node msg=FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"},
	{"node/uncaught.log", "/tmp/apps/node/throw.js:1", SourceNode, ClassCrash, "process=node msg=TypeError: Cannot read properties of undefined (reading 'name')"},
	{"node/uncaught.log", "server listening on port 18350", SourceApp, ClassStart, "up=:18350"},
	{"node/unhandled-rejection.log", "/tmp/apps/node/reject.js:1", SourceNode, ClassCrash, "process=node msg=TypeError: cannot load user 42"},
	{"node/json-throw.log", "<anonymous_script>:1", SourceNode, ClassCrash, "process=node msg=SyntaxError: Expected double-quoted property name"},
	{"node/handler.log", "TypeError: Cannot read properties of null#2", SourceNode, ClassCrash, "process=node msg=TypeError: Cannot read properties of null (reading 'x')"},
	{"node/handler.log", "Caught exception: TypeError", SourceApp, ClassOther, ""},
	{"node/handler.log", "Exception origin: uncaughtException", SourceApp, ClassCrash, ""},
	{"node/econnrefused.log", "node:events:502", SourceNode, ClassDependencyRefused, "process=node dep=127.0.0.1:18351 msg=Error: connect ECONNREFUSED 127.0.0.1:18351"},
	{"node/http-econnrefused.log", "node:events:502", SourceNode, ClassDependencyRefused, "process=node dep=127.0.0.1:18351"},
	{"node/logged-econnrefused.log", "database connection failed", SourceNode, ClassDependencyRefused, "process=node dep=127.0.0.1:18351 msg=database connection failed: Error: connect ECONNREFUSED"},
	{"node/eaddrinuse.log", "node:events:502", SourceNode, ClassListenError, "process=node up=[::]:18352 msg=Error: listen EADDRINUSE: address already in use :::18352"},
	{"node/stamped.log", "ERROR GET /api/orders failed", SourceNode, ClassDependencyRefused, "process=node dep=127.0.0.1:18351 msg=ERROR GET /api/orders failed: Error: connect ECONNREFUSED ts=2026-11-25T17:31:15Z"},
	{"node/warning.log", "(node:11132) MaxListenersExceededWarning", SourceNode, ClassOther, "process=node pid=11132"},
	{"node/listening.log", "Server listening on http://localhost:18352", SourceApp, ClassStart, "up=localhost:18352"},
	// ETIMEDOUT from https://github.com/nodejs/node/issues/31469 and
	// https://github.com/sjfkai/grab12306/issues/7.
	{"node/public-etimedout.log", "{ Error: connect ETIMEDOUT 13.110.0.73:443", SourceNode, ClassDependencyTimeout, "process=node dep=13.110.0.73:443"},
	{"node/public-etimedout.log", "error:  Error: connect ETIMEDOUT 113.107.44.234:443", SourceNode, ClassDependencyTimeout, "process=node dep=113.107.44.234:443"},

	// Structured logs: pino 9 and Go's log/slog JSON handler (node.sh, go.sh).
	{"node/pino.log", "database connection failed", SourceNode, ClassDependencyRefused, "process=node pid=25134 app=api dep=127.0.0.1:18351 level=error msg=database connection failed ts=2026-11-25T17:16:59Z"},
	{"node/pino.log", "cannot start without the database", SourceNode, ClassDependencyRefused, "process=node pid=25134 app=api dep=127.0.0.1:18351 level=fatal"},
	{"node/pino.log", "server listening on 127.0.0.1:18353", SourceApp, ClassStart, "pid=25134 app=api up=127.0.0.1:18353 level=info"},
	{"go/slog.log", "cache unavailable", SourceApp, ClassDependencyRefused, "dep=127.0.0.1:18371 level=ERROR ts=2026-11-25T17:17:04Z"},
	{"go/slog.log", "\"msg\":\"listening\"", SourceApp, ClassStart, "up=127.0.0.1:18373 level=INFO"},

	// uvicorn, from public reports (testdata/app/README.md).
	{"app/public-uvicorn.log", "Uvicorn running on", SourceApp, ClassStart, "up=0.0.0.0:19000 level=INFO"},
	{"app/public-uvicorn.log", "error while attempting to bind", SourceApp, ClassListenError, "up=0.0.0.0:7878 level=ERROR"},

	// Rust 1.95 (scripts/reallogs/apps/rust.sh): generic app lines.
	// A deploy in the app's own words (scripts/scenarios/deploy/run.sh): a
	// planned stop, not a failure.
	{"app/shutdown.log", "starting orders-api v41", SourceApp, ClassOther, "pid=20761 level=INFO ts=2026-11-25T16:38:41Z msg=INFO [orders-api] starting"},
	{"app/shutdown.log", "received SIGTERM, shutting down", SourceApp, ClassStop, "signal=SIGTERM level=INFO ts=2026-11-25T16:38:56Z msg=INFO [orders-api] received SIGTERM"},
	{"app/shutdown.log", "server closed, bye", SourceApp, ClassOther, "level=INFO ts=2026-11-25T16:38:56Z msg=INFO [orders-api] server closed"},
	{"app/rust.log", "panicked at /tmp/apps/rust/main.rs:6:68:#1", SourceApp, ClassCrash, "msg=index out of bounds: the len is 0 but the index is 3"},
	{"app/rust.log", "panicked at /tmp/apps/rust/main.rs:6:68:#2", SourceApp, ClassCrash, "msg=index out of bounds"},
	{"app/rust.log", "panicked at /tmp/apps/rust/main.rs:7:73:", SourceApp, ClassDependencyRefused, "msg=called `Result::unwrap()` on an `Err` value"},
	{"app/rust.log", "Error: Os { code: 111, kind: ConnectionRefused", SourceApp, ClassDependencyRefused, ""},
	{"app/rust.log", "Error: Os { code: 98, kind: AddrInUse", SourceApp, ClassListenError, ""},
	{"app/rust.log", "memory allocation of 268435456 bytes failed", SourceApp, ClassRuntimeOOM, ""},

	// Python 3.11 (scripts/reallogs/apps/python.sh).
	{"python/tracebacks.log", "Traceback#1", SourcePython, ClassCrash, "process=python msg=ZeroDivisionError: division by zero"},
	{"python/tracebacks.log", "Traceback#2", SourcePython, ClassRuntimeOOM, "process=python msg=MemoryError"},
	{"python/tracebacks.log", "Traceback#3", SourcePython, ClassDependencyRefused, "process=python msg=ConnectionRefusedError: [Errno 111] Connection refused"},
	{"python/tracebacks.log", "Traceback#4", SourcePython, ClassDependencyTimeout, "process=python msg=TimeoutError: timed out"},
	{"python/tracebacks.log", "Traceback#5", SourcePython, ClassDependencyRefused, "process=python msg=urllib.error.URLError: <urlopen error [Errno 111] Connection refused>"},
	{"python/tracebacks.log", "Traceback#6", SourcePython, ClassDependencyTimeout, "process=python msg=urllib.error.URLError: <urlopen error timed out>"},
	{"python/tracebacks.log", "Traceback#7", SourcePython, ClassCrash, "process=python msg=RuntimeError: bad config"},
	{"python/flask.log", "ERROR in app: Exception on / [GET]", SourcePython, ClassCrash, "process=python msg=KeyError: 'missing' ts=2026-11-25T16:38:41Z"},
	{"python/logging.log", "ERROR orders: cannot reach the database", SourcePython, ClassDependencyRefused, "process=python msg=ConnectionRefusedError: [Errno 111] Connection refused ts=2026-11-25T17:28:25Z"},
	{"python/flask.log", "* Running on http://127.0.0.1:18343", SourceApp, ClassStart, "up=127.0.0.1:18343"},
	{"python/flask-addrinuse.log", "Address already in use", SourceApp, ClassListenError, ""},
	{"python/flask-addrinuse.log", "Port 18343 is in use", SourceApp, ClassListenError, "up=:18343"},
	// libpq wordings, from https://github.com/aphonsoar/Receita_Federal_do_Brasil_-_Dados_Publicos_CNPJ/issues/11
	// and https://github.com/worldveil/dejavu/issues/306.
	{"python/public-psycopg2.log", "Traceback#1", SourcePython, ClassDependencyRefused, "process=python dep=127.0.0.1:5432 msg=psycopg2.OperationalError: could not connect to server"},
	{"python/public-psycopg2.log", "Traceback#2", SourcePython, ClassDependencyRefused, "process=python dep=127.0.0.1:5432"},

	// Java 17 (scripts/reallogs/apps/java.sh).
	{"java/oom.log", "Exception in thread", SourceJava, ClassRuntimeOOM, "msg=Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"},
	{"java/caused-by.log", "Exception in thread", SourceJava, ClassCrash, "msg=Exception in thread \"main\" java.lang.IllegalStateException: invalid config: port"},
	{"java/refused.log", "Exception in thread", SourceJava, ClassDependencyRefused, "msg=Exception in thread \"main\" java.net.ConnectException: Connection refused"},
	{"java/wrapped-refused.log", "Exception in thread", SourceJava, ClassDependencyRefused, "msg=Exception in thread \"pool-1-thread-1\" java.lang.RuntimeException: cannot reach database"},
	{"java/connect-timeout.log", "Exception in thread", SourceJava, ClassDependencyTimeout, "msg=Exception in thread \"main\" java.net.SocketTimeoutException: Connect timed out"},
	{"java/bind.log", "SEVERE: cannot start second listener", SourceJava, ClassListenError, "msg=java.net.BindException: Address already in use"},
	{"java/bind.log", "Exception in thread \"main\" java.net.BindException", SourceJava, ClassListenError, ""},
	{"java/bind-stamped.log", "SEVERE com.example.Server - cannot start second listener", SourceJava, ClassListenError, "msg=java.net.BindException: Address already in use ts=2026-11-25T17:28:26Z"},
	{"java/bind-stamped.log", "INFO com.example.Server - listening on 127.0.0.1:18363", SourceApp, ClassStart, "up=127.0.0.1:18363 ts=2026-11-25T17:28:26Z"},
	{"java/bind.log", "INFO: listening on 127.0.0.1:18363", SourceApp, ClassStart, "up=127.0.0.1:18363 level=INFO"},

	// Go 1.26 (scripts/reallogs/apps/go.sh).
	{"go/panic.log", "panic: unexpected state", SourceGo, ClassCrash, "msg=panic: unexpected state: queue closed"},
	{"go/nilmap.log", "panic: assignment to entry in nil map", SourceGo, ClassCrash, "msg=panic: assignment to entry in nil map"},
	{"go/segv.log", "panic: runtime error", SourceGo, ClassCrash, "signal=SIGSEGV msg=panic: runtime error: invalid memory address or nil pointer dereference"},
	{"go/oom.log", "runtime: out of memory: cannot allocate 67108864-byte block", SourceGo, ClassRuntimeOOM, "mem=3776 msg=fatal error: out of memory"},
	{"go/oom-reserve.log", "fatal error: failed to reserve page summary memory", SourceGo, ClassRuntimeOOM, "msg=fatal error: failed to reserve page summary memory"},
	{"go/refused.log", "connect to database", SourceApp, ClassDependencyRefused, "dep=127.0.0.1:18371 ts=2026-11-25T16:43:43Z"},
	{"go/http-refused.log", "health check failed", SourceApp, ClassDependencyRefused, "dep=127.0.0.1:18371"},
	{"go/http-refused.log", "panic: dependency unavailable", SourceGo, ClassCrash, ""},
	{"go/timeout.log", "redis: dial tcp", SourceApp, ClassDependencyTimeout, "dep=127.0.0.1:18372"},
	{"go/addrinuse.log", "bind: address already in use", SourceApp, ClassListenError, "up=127.0.0.1:18373"},
	{"go/listening.log", "listening on 127.0.0.1:18373", SourceApp, ClassStart, "up=127.0.0.1:18373"},
	{"go/http-panic.log", "http: panic serving", SourceGo, ClassCrash, "msg=http: panic serving 127.0.0.1:58666: assignment to entry in nil map ts=2026-11-25T17:31:58Z"},
	{"go/sigquit.log", "SIGQUIT: quit", SourceGo, ClassProcessExit, "signal=SIGQUIT exit=2 msg=SIGQUIT: quit"},
	// Older runtimes' wording, from https://github.com/FactomProject/factomd/pull/65.
	{"go/public-oom.log", "fatal error: runtime: out of memory", SourceGo, ClassRuntimeOOM, "msg=fatal error: runtime: out of memory"},
}

// readGroups runs a capture through the Grouper the way the shipper does.
func readGroups(t testing.TB, file string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := NewGrouper(200, 64<<10)
	var groups [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		for _, grp := range g.Add(sc.Bytes()) {
			groups = append(groups, bytes.Clone(grp))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return append(groups, g.Flush()...)
}

func findGroup(groups [][]byte, match string) []byte {
	n := 1
	if i := strings.LastIndexByte(match, '#'); i > 0 {
		if v, err := strconv.Atoi(match[i+1:]); err == nil {
			match, n = match[:i], v
		}
	}
	for _, g := range groups {
		if bytes.Contains(firstLine(g), []byte(match)) {
			if n--; n == 0 {
				return g
			}
		}
	}
	return nil
}

func TestApps_RealLines(t *testing.T) { runAppCases(t, appCases) }

// runAppCases parses each case's group with its own source and with auto
// detection, and checks the class and fields.
func runAppCases(t *testing.T, cases []appCase) {
	t.Helper()
	cache := map[string][][]byte{}
	for _, tc := range cases {
		t.Run(tc.file+"/"+tc.match, func(t *testing.T) {
			groups, ok := cache[tc.file]
			if !ok {
				groups = readGroups(t, tc.file)
				cache[tc.file] = groups
			}
			line := findGroup(groups, tc.match)
			if line == nil {
				t.Fatalf("no group whose first line contains %q", tc.match)
			}
			for _, src := range []Source{tc.src, SourceAuto} {
				p, err := New(Options{Source: src, Location: time.UTC})
				if err != nil {
					t.Fatal(err)
				}
				var ev Event
				p.Parse(line, &ev)
				if ev.Kind != KindUpstreamEvent {
					t.Fatalf("source %s: kind %q (reason %q), want upstream_event; line:\n%s", src, ev.Kind, ev.Reason, line)
				}
				if ev.Source != tc.src {
					t.Errorf("source %s: detected %q, want %q", src, ev.Source, tc.src)
				}
				if ev.Class != tc.class {
					t.Errorf("source %s: class %q, want %q; line:\n%s", src, ev.Class, tc.class, line)
				}
				checkFields(t, string(src), &ev, tc.want)
			}
		})
	}
}

func checkFields(t *testing.T, label string, ev *Event, want string) {
	t.Helper()
	got := map[string]string{
		"pid": "", "signal": ev.Signal, "exit": "", "app": ev.App, "dep": ev.Dependency, "up": ev.Upstream,
		"mem": "", "process": ev.Process, "request": ev.Request,
	}
	if ev.PID != 0 {
		got["pid"] = strconv.Itoa(ev.PID)
	}
	if ev.ExitCode != Absent {
		got["exit"] = strconv.Itoa(ev.ExitCode)
	}
	if ev.MemoryKB != Absent {
		got["mem"] = strconv.FormatInt(ev.MemoryKB, 10)
	}
	wants := map[string]string{}
	for _, kv := range splitSpec(want) {
		k, v, _ := strings.Cut(kv, "=")
		wants[k] = v
	}
	for k, g := range got {
		w, named := wants[k]
		switch {
		case named && w == "*":
			if g == "" {
				t.Errorf("%s: %s empty, want a value", label, k)
			}
		case named && g != w:
			t.Errorf("%s: %s = %q, want %q", label, k, g, w)
		case !named && g != "" && k != "process":
			t.Errorf("%s: %s = %q, want it empty", label, k, g)
		}
	}
	if w, ok := wants["level"]; ok && ev.Level != w {
		t.Errorf("%s: level = %q, want %q", label, ev.Level, w)
	}
	if w, ok := wants["msg"]; ok && !strings.HasPrefix(ev.Message, w) {
		t.Errorf("%s: message = %q, want prefix %q", label, ev.Message, w)
	}
	if w, ok := wants["ts"]; ok {
		if w == "*" {
			if ev.Time.IsZero() {
				t.Errorf("%s: no time", label)
			}
		} else if got := ev.Time.UTC().Format(time.RFC3339); got != w {
			t.Errorf("%s: ts = %s, want %s", label, got, w)
		}
	}
}

// splitSpec splits "k=v k=v with spaces" on the spaces before a known key.
func splitSpec(s string) []string {
	var out []string
	keys := []string{"pid=", "signal=", "exit=", "app=", "dep=", "up=", "mem=", "level=", "msg=", "ts=", "process=", "request="}
	for s != "" {
		next := len(s)
		for _, k := range keys {
			if i := strings.Index(s[1:], " "+k); i >= 0 && i+1 < next {
				next = i + 1
			}
		}
		out = append(out, strings.TrimSpace(s[:next]))
		s = strings.TrimSpace(s[next:])
	}
	return out
}

// Every upstream_event class these parsers assign has at least two real
// examples in the table above.
func TestApps_ClassesHaveTwoExamples(t *testing.T) {
	count := map[Class]int{}
	for _, tc := range appCases {
		count[tc.class]++
	}
	for _, c := range []Class{ClassProcessExit, ClassRestart, ClassStart, ClassStop, ClassRuntimeOOM, ClassCrash,
		ClassWorkerTimeout, ClassWorkerKilled, ClassPoolSaturated, ClassDependencyRefused, ClassDependencyTimeout,
		ClassListenError, ClassMemoryLimitRestart, ClassOther} {
		if count[c] < 2 {
			t.Errorf("class %s has %d real examples, want at least 2", c, count[c])
		}
	}
}

// Zone-less stamps (PM2, php-fpm, uWSGI, Go's log) are local time of the
// host: they take Options.Location; stamps with a zone keep theirs.
func TestApps_TimeZones(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	p, err := New(Options{Location: berlin})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{"2026-11-25T16:35:32: PM2 log: App [crasher:0] online", "2026-11-25T15:35:32Z"},
		{"[25-Nov-2026 16:37:56] WARNING: [pool www] server reached pm.max_children setting (2), consider raising it", "2026-11-25T15:37:56Z"},
		{"[25-Nov-2026 16:37:42 UTC] PHP Fatal error:  Allowed memory size of 8388608 bytes exhausted (tried to allocate 2097152 bytes) in /x.php on line 1", "2026-11-25T16:37:42Z"},
		{"[2026-11-25 16:36:30 +0000] [16593] [CRITICAL] WORKER TIMEOUT (pid:16599)", "2026-11-25T16:36:30Z"},
		{"Wed Nov 25 16:36:58 2026 - *** HARAKIRI ON WORKER 1 (pid: 17623, try: 1) ***", "2026-11-25T15:36:58Z"},
		{"2026/11/25 16:40:15 connect to database: dial tcp 127.0.0.1:18371: connect: connection refused", "2026-11-25T15:40:15Z"},
	} {
		var ev Event
		p.Parse([]byte(tc.line), &ev)
		if got := ev.Time.Format(time.RFC3339); got != tc.want {
			t.Errorf("%q: ts %s, want %s (kind %s %s)", tc.line, got, tc.want, ev.Kind, ev.Reason)
		}
	}
}

// Lines that claim a format and break it are unparsed with a reason; lines
// that are merely chatter are class other.
func TestApps_BrokenFormats(t *testing.T) {
	for _, tc := range []struct {
		src  Source
		line string
	}{
		{SourceGunicorn, "[2026-11-25 16:36:30 +0000 [16593] [CRITICAL] WORKER TIMEOUT"},
		{SourceGunicorn, "[2026-13-25 16:36:30 +0000] [16593] [INFO] x"},
		{SourceGunicorn, "WORKER TIMEOUT (pid:1)"},
		{SourcePHPFPM, "[25-Nov-2026 16:37:56 WARNING: [pool www] server reached"},
		{SourcePHPFPM, "[25-Xyz-2026 16:37:56] WARNING: x"},
		{SourcePHPFPM, "[25-Nov-2026 16:37:56] this line has no level at all"},
		{SourcePHPFPM, "[2"},
		{SourcePM2, "2026-11-25T16:35:32 PM2 log: App [api:0] online"},
		{SourcePM2, "2026-11-2"},
		{SourcePython, "   "},
	} {
		p, _ := New(Options{Source: tc.src})
		var ev Event
		p.Parse([]byte(tc.line), &ev)
		if ev.Kind != KindUnparsed || ev.Reason == "" {
			t.Errorf("%s %q: kind %q class %q reason %q, want unparsed with a reason", tc.src, tc.line, ev.Kind, ev.Class, ev.Reason)
		}
	}
}

func TestFindHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"dial tcp 127.0.0.1:5432: connect: connection refused":              "127.0.0.1:5432",
		"2026/11/25 16:40:15 redis: dial tcp 10.0.0.7:6379: i/o timeout":    "10.0.0.7:6379",
		"Error: connect ECONNREFUSED 127.0.0.1:18351":                       "127.0.0.1:18351",
		"address already in use :::3000":                                    "[::]:3000",
		"dial tcp [::1]:8080: connect: connection refused":                  "[::1]:8080",
		"at Object.<anonymous> (/tmp/apps/node/listen.js:3:42)":             "",
		"at Chain.loadConfig(Chain.java:4)":                                 "",
		"at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)": "",
		"Get \"http://api.internal:8080/health\": EOF":                      "api.internal:8080",
		"version 1.2.3 at 12:30:45":                                         "",
	} {
		if got := findHostPort([]byte(in)); got != want {
			t.Errorf("findHostPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// appSources are the sources these parsers own.
var appSources = []Source{SourcePM2, SourceGunicorn, SourceUWSGI, SourcePHPFPM, SourceNode, SourcePython,
	SourceJava, SourceGo, SourceApp}

func FuzzApps(f *testing.F) {
	for _, tc := range appCases {
		if groups := readGroups(f, tc.file); len(groups) > 0 {
			if g := findGroup(groups, tc.match); g != nil {
				f.Add(g)
			}
		}
	}
	f.Add([]byte("\xff\xfe[25-Nov-2026 16:37:56] WARNING: [pool"))
	f.Add([]byte("[2026-11-25 16:36:30 +0000] [16593] ["))
	parsers := make([]*Parser, len(appSources))
	for i, src := range appSources {
		p, err := New(Options{Source: src})
		if err != nil {
			f.Fatal(err)
		}
		parsers[i] = p
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev Event
		for _, p := range parsers {
			p.Parse(line, &ev)
			switch ev.Kind {
			case KindUpstreamEvent:
				if ev.Class == "" {
					t.Fatalf("%s: upstream_event without class for %q", p.opts.Source, line)
				}
			case KindUnparsed:
				if ev.Reason == "" {
					t.Fatalf("%s: unparsed without reason for %q", p.opts.Source, line)
				}
			default:
				t.Fatalf("%s: kind %q for %q", p.opts.Source, ev.Kind, line)
			}
		}
	})
}

// Huge, binary and truncated input never panics and says why it failed.
func TestApps_HostileInput(t *testing.T) {
	huge := bytes.Repeat([]byte("Traceback (most recent call last):\n  File \"x\", line 1\n"), (MaxLineBytes/50)+10)
	for _, src := range appSources {
		p, _ := New(Options{Source: src})
		for _, in := range [][]byte{huge, []byte("\x00\x01\xff\xfe"), []byte("[25-Nov-2026 16:37:5"), []byte("panic: ")} {
			var ev Event
			p.Parse(in, &ev)
			if ev.Kind == KindUnparsed && ev.Reason == "" {
				t.Errorf("%s: unparsed without a reason", src)
			}
			if len(in) > MaxLineBytes && ev.Kind != KindUnparsed {
				t.Errorf("%s: %d byte input parsed", src, len(in))
			}
		}
	}
}

// Callers that do not group (a line-by-line pipe) still get the failure:
// the exception line of each trace carries the class, and no fragment of a
// trace is unparsed except blank lines.
func TestApps_UngroupedTraces(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "python/tracebacks.log"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := New(Options{})
	got := map[Class]int{}
	for _, l := range bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n")) {
		var ev Event
		p.Parse(l, &ev)
		if ev.Kind == KindUnparsed && len(bytes.TrimSpace(l)) > 0 {
			t.Errorf("%q unparsed: %s", l, ev.Reason)
		}
		got[ev.Class]++
	}
	// 7 tracebacks: ZeroDivisionError, RuntimeError and the JSONDecodeError
	// it chains are crashes; MemoryError; two refused, two timed out (each
	// twice: the OSError and the URLError wrapping it).
	want := map[Class]int{ClassCrash: 3, ClassRuntimeOOM: 1, ClassDependencyRefused: 3, ClassDependencyTimeout: 3}
	for c, n := range want {
		if got[c] != n {
			t.Errorf("%s: %d events, want %d (all: %v)", c, got[c], n, got)
		}
	}
}

// BenchmarkApps parses the real lines of the table above, each with its own
// source (as a shipper that knows the file's kind does) and with detection.
func BenchmarkApps(b *testing.B) {
	type item struct {
		line []byte
		src  Source
	}
	var items []item
	var size int
	for _, tc := range appCases {
		if g := findGroup(readGroups(b, tc.file), tc.match); g != nil {
			items = append(items, item{g, tc.src})
			size += len(g)
		}
	}
	for _, mode := range []string{"fixed", "auto"} {
		b.Run(mode, func(b *testing.B) {
			parsers := map[Source]*Parser{}
			for _, it := range items {
				src := it.src
				if mode == "auto" {
					src = SourceAuto
				}
				p, err := New(Options{Source: src})
				if err != nil {
					b.Fatal(err)
				}
				parsers[it.src] = p
			}
			var ev Event
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, it := range items {
					parsers[it.src].Parse(it.line, &ev)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/event")
		})
	}
}

// Parsers and the Grouper stay linear on hostile 1 MiB input built from the
// fragments they search for (a bracket search without a bound once took 12 s
// on repeated "Error ["). The bound is loose: a quadratic path takes far
// longer even on a loaded machine.
func TestApps_LinearOnHostileInput(t *testing.T) {
	frags := []string{"x.js:1", "Error", "Error: ", "Error [", ":1", "\n    at x", "\n\tat x", pyTraceback + "\n",
		"\nx\n  y", "host='a', port=1 ", "\"(", "{", "\n", " | ", "panic: x\n", "Caused by: x\n", "[pid: ", "address: '"}
	const limit = 2 * time.Second
	for _, frag := range frags {
		in := bytes.Repeat([]byte(frag), (MaxLineBytes-16)/len(frag))
		for _, src := range appSources {
			p, _ := New(Options{Source: src})
			var ev Event
			start := time.Now()
			p.Parse(in, &ev)
			if d := time.Since(start); d > limit {
				t.Errorf("%s on repeated %q: %v", src, frag, d)
			}
		}
		g := NewGrouper(300, 1<<16)
		start := time.Now()
		for _, l := range bytes.Split(in, []byte("\n")) {
			g.Add(l)
		}
		g.Flush()
		if d := time.Since(start); d > limit {
			t.Errorf("grouper on repeated %q: %v", frag, d)
		}
	}
}

// php-fpm and PHP lines that came through syslog or the journal (the
// envelope's tag chose the source, the file's date is gone) are read, not
// rejected; the messages are the real ones of php_fpm/*.log, and a
// bracketed level before them is tolerated.
func TestApps_PHPFromSyslog(t *testing.T) {
	p, _ := New(Options{Source: SourcePHPFPM})
	for line, want := range map[string]Class{
		"PHP Fatal error:  Allowed memory size of 8388608 bytes exhausted (tried to allocate 2097152 bytes) in /x.php on line 1": ClassRuntimeOOM,
		"[WARNING] [pool www] server reached pm.max_children setting (5), consider raising it":                                   ClassPoolSaturated,
		"some other message": ClassOther,
	} {
		var ev Event
		p.Parse([]byte(line), &ev)
		if ev.Kind != KindUpstreamEvent || ev.Class != want {
			t.Errorf("%q: %s %s (%s), want %s", line, ev.Kind, ev.Class, ev.Reason, want)
		}
	}
}

// gunicorn --log-syslog drops the time (the syslog header has it): the rest
// of its real lines is read the same.
func TestApps_GunicornSyslog(t *testing.T) {
	p, _ := New(Options{Source: SourceGunicorn})
	for _, l := range readGroups(t, "gunicorn/error.log") {
		var want, got Event
		p.Parse(l, &want)
		p.Parse(l[bytes.Index(l, []byte("] "))+2:], &got)
		if got.Kind != KindUpstreamEvent || got.Class != want.Class || got.PID != want.PID || got.Signal != want.Signal || !got.Time.IsZero() {
			t.Errorf("%q without its time: %s %s pid %d, want %s pid %d", l, got.Kind, got.Class, got.PID, want.Class, want.PID)
		}
	}
}
