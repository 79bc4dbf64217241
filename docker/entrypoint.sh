#!/bin/sh
# The image's entrypoint. Flags (or nothing) run the server:
#   turnpike serve [-c $TURNPIKE_CONFIG] [--external-ip … from $TURNPIKE_EXTERNAL_IP] FLAGS…
# A -c among FLAGS comes later and wins; with -n no file is read and none is named. A Turnpike
# command (serve, admin, healthcheck) runs as given; anything else (sh, …) is executed as is.
#
#   TURNPIKE_CONFIG       configuration file (default /etc/turnpike/turnserver.conf)
#   TURNPIKE_EXTERNAL_IP  public address(es) behind NAT, separated by spaces or commas, each
#                         PUBLIC or PUBLIC/PRIVATE as in external-ip=
#   TURNPIKE_CLI          the CLI script (default /opt/turnpike/dist/cli/turnpike.js)
set -eu

cli="${TURNPIKE_CLI:-/opt/turnpike/dist/cli/turnpike.js}"

case "${1:-}" in
  serve | admin | healthcheck) exec node "$cli" "$@" ;;
  '' | -*) ;;
  *) exec "$@" ;;
esac

no_config=
for arg in "$@"; do
  case "$arg" in -n) no_config=1 ;; esac
done

# Ours go before the user's flags, so that theirs win. Prepending reverses, so reverse first.
set -f # addresses are words, never globs
reversed=
for address in $(printf '%s' "${TURNPIKE_EXTERNAL_IP:-}" | tr ',' ' '); do
  reversed="$address $reversed"
done
for address in $reversed; do
  set -- --external-ip "$address" "$@"
done
if [ -z "$no_config" ]; then
  set -- -c "${TURNPIKE_CONFIG:-/etc/turnpike/turnserver.conf}" "$@"
fi

# exec: the server is PID 1's child under `init: true`, or PID 1 itself, and gets the signals.
exec node "$cli" serve "$@"
