#!/usr/bin/env bash
# Make sure the Debian packages the tests drive are installed: coturn's tools (interop tests
# and the bench), Chromium (the WebRTC interop tests and the self-test page test), and for the
# systemd tests python3 (a notify socket that reads SCM_CREDENTIALS), systemd-notify and
# systemd-analyze (neither needs a running systemd), and redis-server (the redis-userdb tests
# start their own on a free port; the package's service is not started, see policy-rc.d below),
# and tcpdump (what the kernel puts in relayed IP headers: the DF bit), and postgresql (the
# psql-userdb tests run their own server from /usr/lib/postgresql/<version>/bin, which is not
# on PATH; the package's cluster is not started, see policy-rc.d below), and mariadb-server (the
# mysql-userdb tests run their own mariadbd in a temp data folder; the package's is not started).
# Never skips: if a tool cannot be had, this fails loudly.
set -euo pipefail

# tool -> Debian package that provides it
declare -A PACKAGE_OF=(
  [turnserver]=coturn
  [turnutils_uclient]=coturn
  [turnutils_peer]=coturn
  [turnutils_stunclient]=coturn
  [/usr/bin/chromium]=chromium
  [redis-server]=redis-server
  [tcpdump]=tcpdump
  [python3]=python3
  [systemd-notify]=systemd
  [systemd-analyze]=systemd
  [postgres]=postgresql
  [/usr/sbin/mariadbd]=mariadb-server
  [mariadb-install-db]=mariadb-server
)

# Debian keeps the server binaries out of PATH, under the major version.
has_tool() {
  if [[ "$1" == postgres ]]; then
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
  else
    command -v "$1" >/dev/null 2>&1
  fi
}

missing_tools() {
  local t out=()
  for t in "${!PACKAGE_OF[@]}"; do
    has_tool "$t" || out+=("$t")
  done
  echo "${out[*]:-}"
}

missing_packages() {
  local t
  for t in $(missing_tools); do echo "${PACKAGE_OF[$t]}"; done | sort -u | tr '\n' ' '
}

missing="$(missing_tools)"

if [[ -n "$missing" && "$EUID" == "0" ]]; then
  packages="$(missing_packages)"
  log="$(mktemp)"
  # coturn ships a service; invoke-rc.d consults policy-rc.d, and exit 101 there means
  # "do not start anything". Put one in place only for the install if none exists.
  # systemctl is never called here.
  added_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "ensure-tools: installing $packages(missing: $missing)"
  # shellcheck disable=SC2086 # one word per package
  if ! { apt-get update && apt-get install -y --no-install-recommends $packages; } >"$log" 2>&1; then
    cat "$log" >&2
  fi
  rm -f "$log"
  if [[ -n "$added_policy" ]]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  missing="$(missing_tools)"
fi

if [[ -n "$missing" ]]; then
  echo "ensure-tools: ERROR: missing tools: $missing" >&2
  echo "ensure-tools: install them with: apt-get install -y $(missing_packages)(as root)" >&2
  exit 1
fi

echo "ensure-tools: coturn tools present (turnserver $(turnserver --version 2>/dev/null | head -n1))"
# chromium's wrapper script prints a shell warning on stderr here; only its version line counts.
echo "ensure-tools: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
echo "ensure-tools: $(redis-server --version 2>/dev/null | head -n1)"
echo "ensure-tools: PostgreSQL $(ls -d /usr/lib/postgresql/*/bin/postgres | head -n1)"
echo "ensure-tools: $(/usr/sbin/mariadbd --version 2>/dev/null | head -n1)"
