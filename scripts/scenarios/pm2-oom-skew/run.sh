#!/usr/bin/env bash
# pm2-oom-skew: scenario pm2-oom where the app host's clock runs 4 s ahead of the
# proxy's (PM2, the app and dmesg under libfaketime): the kernel's kill and PM2's
# lines appear 4 s after the 502s they caused. Needs the faketime package.
exec env SCN_NAME=pm2-oom-skew SCN_NGX=18418 SCN_CGROUP=culprit-scn-oom-skew SCN_SKEW=+4s \
  bash "$(dirname "$0")/../pm2-oom/run.sh" "$@"
