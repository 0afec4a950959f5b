#!/usr/bin/env bash
# A local OCI registry on loopback for the signed release: Debian's docker-registry (the
# distribution project's registry 2.8), listening on 127.0.0.1 only, its storage in a
# temporary folder that is removed when it stops. The gate pushes the image it verified there,
# and cosign stores the signature and the attestations beside it. Engines push to 127.0.0.1
# over plain HTTP without configuration (loopback is an insecure registry by default).
#
# Usage: deployment/registry.sh start    starts it (or finds it answering) and prints its address
#        deployment/registry.sh stop     stops it, if this script started it, removing its storage
#        deployment/registry.sh status   says whether it answers, and who started it
# Env:   RELEASE_REGISTRY  host:port to listen on (default 127.0.0.1:5055; loopback only)
# Files: /tmp/modern-ml-microservices-registry.pid (its pid) and .dir (its config and storage)
set -euo pipefail

ADDRESS="${RELEASE_REGISTRY:-127.0.0.1:5055}"
PID_FILE="/tmp/modern-ml-microservices-registry.pid"
DIR_FILE="/tmp/modern-ml-microservices-registry.dir"

log() { printf '[registry] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ "$ADDRESS" == 127.* ]] || die "RELEASE_REGISTRY=$ADDRESS: the registry listens on loopback only (127.x.x.x:PORT)"

answers() { curl -fsS --max-time 3 "http://$ADDRESS/v2/" >/dev/null 2>&1; }

start() {
  local dir
  if answers; then
    log "a registry answers at $ADDRESS"
    echo "$ADDRESS"
    return 0
  fi
  command -v docker-registry >/dev/null \
    || die "docker-registry is missing: as root run 'apt-get install -y docker-registry' (deployment/prerequisites.sh does)"
  dir="$(mktemp -d /tmp/modern-ml-microservices-registry.XXXXXX)"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $ADDRESS
EOF
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$PID_FILE"
  echo "$dir" >"$DIR_FILE"
  for _ in $(seq 1 40); do answers && break; sleep 0.25; done
  answers || { tail -n 20 "$dir/registry.log" >&2; die "the registry did not answer at $ADDRESS"; }
  log "started the registry at $ADDRESS (pid $(cat "$PID_FILE"), storage $dir/storage); stop it with: deployment/registry.sh stop"
  echo "$ADDRESS"
}

stop() {
  local pid dir
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  dir="$(cat "$DIR_FILE" 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    log "the registry was not started by this script; nothing to stop"
  else
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    log "stopped the registry (pid $pid)"
  fi
  [[ "$dir" == /tmp/modern-ml-microservices-registry.* ]] && rm -rf "$dir"
  rm -f "$PID_FILE" "$DIR_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if answers; then log "a registry answers at $ADDRESS (pid file: $(cat "$PID_FILE" 2>/dev/null || echo none))"
    else log "no registry answers at $ADDRESS"; fi ;;
  *) sed -n '/^# Usage:/,/^# Files:/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
