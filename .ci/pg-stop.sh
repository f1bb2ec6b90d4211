#!/usr/bin/env bash
# Stop and delete the throwaway cluster; safe to call twice or when nothing was started.
set -uo pipefail
DIR=${PGCI_DIR:-}
[ -n "$DIR" ] && [ -d "$DIR" ] || exit 0
PGBIN=${PGCI_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); else AS=(); fi
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
  || { PID=$(head -1 "$DIR/data/postmaster.pid" 2>/dev/null) && kill -QUIT "$PID" 2>/dev/null; sleep 1; }
rm -rf "$DIR"
