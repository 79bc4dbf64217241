#!/usr/bin/env bash
# Make sure Debian's coturn tools are installed: the interop tests and the bench drive them.
# Never skips: if the tools cannot be had, this fails loudly.
set -euo pipefail

TOOLS=(turnserver turnutils_uclient turnutils_peer turnutils_stunclient)

missing_tools() {
  local t out=()
  for t in "${TOOLS[@]}"; do
    command -v "$t" >/dev/null 2>&1 || out+=("$t")
  done
  echo "${out[*]:-}"
}

missing="$(missing_tools)"

if [[ -n "$missing" && "$EUID" == "0" ]]; then
  log="$(mktemp)"
  # The package ships a service; invoke-rc.d consults policy-rc.d, and exit 101 there means
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
  if ! { apt-get update && apt-get install -y --no-install-recommends coturn; } >"$log" 2>&1; then
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
  echo "ensure-tools: ERROR: missing coturn tools: $missing" >&2
  echo "ensure-tools: install them with: apt-get install -y coturn (as root)" >&2
  exit 1
fi

echo "ensure-tools: coturn tools present (turnserver $(turnserver --version 2>/dev/null | head -n1))"
