#!/usr/bin/env bash
# Makes sure the benchmark's load generator is here: Debian's wrk (C, event-driven, 2 threads),
# which saturates the service before itself on 2 cores; a Python client does not, and its
# figures measure the client (benchmarks/run.py refuses to measure throughput without wrk).
# Installs the pinned version with apt-get when wrk is missing (as root); safe to run twice.
#
# Usage: benchmarks/load-generator.sh     prints the wrk it found or installed
set -euo pipefail

WRK_VERSION="4.1.0-3+b2"  # bookworm's

log() { printf '[load-generator] %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing wrk $WRK_VERSION (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "wrk=$WRK_VERSION" >/dev/null
  else
    log "error: wrk is missing: as root run 'apt-get install -y wrk=$WRK_VERSION' (Debian bookworm), then run this again"
    exit 1
  fi
fi
# wrk -v prints its version and exits 1 (it wants a URL).
version="$(wrk -v 2>&1 | head -n 1 | cut -d ' ' -f 1-2 || true)"
log "load generator: ${version:-wrk}"
printf '%s\n' "${version:-wrk}"
