#!/usr/bin/env bash
# Installs what culprit's tests and demos need on a fresh Debian 12 machine.
# Idempotent and quiet when everything is already there.
set -euo pipefail
pkgs=(nginx wrk kcat clickhouse-server clickhouse-client php8.2-fpm gunicorn uwsgi uwsgi-plugin-python3
      rsyslog-kafka python3-flask maven openjdk-17-jre-headless chromium fonts-dejavu-core libnginx-mod-stream openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# chdb embeds a current ClickHouse engine: the schema and the dashboards' SQL
# are also checked against it, not only against Debian's 18.16 server.
if ! python3 -c 'import chdb' >/dev/null 2>&1; then
  echo "deps: installing chdb (PyPI)" >&2
  python3 -m pip install -q chdb
fi
