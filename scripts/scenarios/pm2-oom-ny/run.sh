#!/usr/bin/env bash
# pm2-oom-ny: scenario pm2-oom on a host whose local time is America/New_York:
# nginx's error log and PM2's `time: true` prefixes are New York time without a
# zone; access.log and dmesg carry the -0500 offset.
exec env SCN_NAME=pm2-oom-ny SCN_NGX=18414 SCN_CGROUP=culprit-scn-oom-ny SCN_TZ=America/New_York \
  bash "$(dirname "$0")/../pm2-oom/run.sh" "$@"
