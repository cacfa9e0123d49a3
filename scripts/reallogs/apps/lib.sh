# What every scripts/reallogs/apps/*.sh starts with: source it, then call
# apps_init with the parser/testdata directory the captures go to.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)

# apps_init SOURCE [NAME]: out is parser/testdata/SOURCE, work is /tmp/apps/NAME
# (NAME defaults to SOURCE), both created. APPS_OUT_ROOT=DIR writes the captures
# under DIR instead: a check of a changed script that leaves the committed
# captures alone.
apps_init() {
  out=${APPS_OUT_ROOT:-$repo/parser/testdata}/$1
  work=/tmp/apps/${2:-$1}
  mkdir -p "$out" "$work"
}

# wait_http URL: waits until URL answers (5 s at most); fails otherwise, so
# that a server that never came up cannot leave a plausible capture.
wait_http() {
  local i
  for i in $(seq 50); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "$1 never answered" >&2
  return 1
}

# wsgi_sleep_app FILE: the WSGI app of the gunicorn and uWSGI captures: /sleep
# takes 5 s (longer than the timeouts the scripts set), anything else answers.
wsgi_sleep_app() {
  cat >"$1" <<'PY'
import time
def application(environ, start_response):
    if environ.get('PATH_INFO') == '/sleep':
        time.sleep(5)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok\n']
PY
}
