#!/usr/bin/env bash
# The engines beside Debian bookworm's Docker 20.10 (deployment/prerequisites.sh starts that one):
#   docker-28  Docker 28 with the buildx plugin and the containerd image store, from Debian's own
#              packages (versions pinned below) unpacked into a private prefix: no system
#              package is installed or replaced. Its own data root, exec root and socket.
#   podman     bookworm's Podman 4.3 (apt, pinned below), rootful, serving the Docker API on its
#              own socket (`podman system service`), with the container limits this machine
#              allows (containers.conf: its default limits fail every start here).
# Each runs in the background and is stopped only by `stop` (which stops nothing it did not
# start).
#
# One engine at a time: two daemons in one network namespace fight over the firewall chains
# (each flushes and rewrites DOCKER and its own chains when it starts) and over the docker0
# bridge (the second deletes it when it stops, and the first then starts no container), so
# `start` refuses while another dockerd runs and says which. CI runs its engines one after the
# other (.ci/run).
#
# Usage: eval "$(deployment/engines.sh start ENGINE)"   starts it (or finds it running) and
#                                                       prints the exports that select it
#        eval "$(deployment/engines.sh env ENGINE)"     the exports alone
#        deployment/engines.sh stop ENGINE              stops it, if this script started it
#        deployment/engines.sh save IMAGE ARCHIVE       `docker save` of IMAGE and the base its
#                                                       label names (for Podman: one engine at a
#                                                       time, so the image moves as a file)
#        deployment/engines.sh load podman ARCHIVE      loads such an archive into Podman, under
#                                                       the names Docker gave it
#        deployment/engines.sh status                   which engines run
# The exports: DOCKER_HOST (the engine the gate, the suites and the benchmarks use); for
# docker-28 also DOCKER (its client), DOCKER_CONFIG (where buildx is found) and PATH (its client
# and containerd); for podman CONTAINERS_CONF (so `podman load` sees the same settings).
# Env:   ENGINES_CACHE  where the packages are fetched and unpacked
#                       (default ~/.cache/modern-ml-microservices/engines)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian forky's docker.io, docker-cli and docker-buildx; trixie's containerd (forky's 2.x
# is not what Docker 28 was released with). bookworm's runc (docker.io 20.10's) serves it.
DOCKER_28_PACKAGES=(
  "forky docker.io 28.5.2+dfsg4-5"
  "forky docker-cli 28.5.2+dfsg4-5"
  "forky docker-buildx 0.29.1+ds1-4"
  "trixie containerd 1.7.24~ds1-6+deb13u1"
)
# bookworm's Podman, with CNI's networks and their name service (dnsname): containers reach
# each other by name on the suite's own networks. (netavark 1.4, bookworm's other backend, did
# not forward ports published on 127.0.0.1 here.)
PODMAN_PACKAGES=(podman=4.3.1+ds1-8+deb12u1+b3 golang-github-containernetworking-plugin-dnsname=1.3.1+ds1-2+b6)
CACHE="${ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modern-ml-microservices/engines}"
STATE=/run/modern-ml-microservices

log() { printf '[engines] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '/^# Usage:/,/^# Env:/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

engine_dirs() { # sets the paths of engine $1
  case "$1" in
    docker-28 | podman) ;;
    *) die "unknown engine '$1': the engines are docker-28 and podman (the default engine needs no start: deployment/prerequisites.sh)" ;;
  esac
  ROOT="$CACHE/$1/root"
  DATA="/var/lib/modern-ml-microservices/$1"
  EXEC="$STATE/$1"
  SOCKET="$STATE/$1.sock"
  PID_FILE="/tmp/modern-ml-microservices-$1.pid"
  LOG="/tmp/modern-ml-microservices-$1.log"
  CONFIG="$CACHE/$1/config"
}

exports() { # the shell lines that select engine $1, one variable a line
  if [[ "$1" == podman ]]; then
    printf 'export DOCKER_HOST=%q\nexport CONTAINERS_CONF=%q\n' "unix://$SOCKET" "$CONFIG/containers.conf"
    return 0
  fi
  printf 'export DOCKER_HOST=%q\nexport DOCKER=%q\nexport DOCKER_CONFIG=%q\nexport PATH=%q\n' \
    "unix://$SOCKET" "$ROOT/usr/bin/docker" "$CONFIG" "$ROOT/usr/bin:$ROOT/usr/sbin:$PATH"
}

answers() { # true when the engine's socket answers the Docker API's ping
  [[ -S "$SOCKET" ]] && curl -fsS --max-time 5 --unix-socket "$SOCKET" http://engine/_ping >/dev/null 2>&1
}

fetch() { # unpacks the pinned packages into $ROOT once
  deployment/debian-fetch.sh "$ROOT" "${DOCKER_28_PACKAGES[@]}"
  [[ -x "$ROOT/usr/sbin/dockerd" ]] || die "the packages unpacked into $ROOT hold no dockerd"
}

other_engine() { # the pid and command of an engine other than engine $1's, if one runs
  local own pid
  own="$(cat "$PID_FILE" 2>/dev/null || true)"
  for pid in $(pgrep -x dockerd || true) $(pgrep -f '^podman system service' || true); do
    [[ "$pid" == "$own" ]] && continue
    printf '%s (%s)' "$pid" "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-120)"
    return 0
  done
  return 1
}

limits() { # the containers.conf limits: the highest this machine allows, at most 20000
  local soft
  soft="$(ulimit -"$1")"
  [[ "$soft" == unlimited || "$soft" -gt 20000 ]] && soft=20000
  echo "$soft"
}

start_podman() {
  if ! command -v podman >/dev/null || [[ ! -x /usr/lib/cni/dnsname ]]; then
    command -v apt-get >/dev/null || die "podman is missing and there is no apt-get: install Podman 4.3 or later"
    log "installing ${PODMAN_PACKAGES[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${PODMAN_PACKAGES[@]}" >/dev/null
  fi
  mkdir -p "$CONFIG" "$STATE"
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[network]\nnetwork_backend = "cni"\n' \
    "$(limits n)" "$(limits n)" "$(limits u)" "$(limits u)" >"$CONFIG/containers.conf"
  log "starting Podman's Docker API service (log: $LOG)"
  CONTAINERS_CONF="$CONFIG/containers.conf" nohup podman system service --time=0 \
    "unix://$SOCKET" >"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { tail -n 20 "$LOG" >&2; die "podman did not start"; }
  # Members of the docker group may use its socket, as dockerd's --group gives them.
  if getent group docker >/dev/null; then chgrp docker "$SOCKET" && chmod 660 "$SOCKET"; fi
  log "started podman (pid $(cat "$PID_FILE"), $(podman --version)); stop it with: deployment/engines.sh stop podman"
}

start() {
  local other
  if answers; then
    log "$1 already runs (socket $SOCKET)"
    exports "$1"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "starting $1 needs root (its own dockerd, containerd and bridge)"
  [[ "$1" == podman ]] || command -v runc >/dev/null || die "runc is missing: apt-get install -y runc"
  if other="$(other_engine "$1")"; then
    die "another engine runs: pid $other; two engines in one network namespace fight over the firewall chains and the bridges. Stop it first, then run this again"
  fi
  if [[ "$1" == podman ]]; then
    start_podman
    exports "$1"
    return 0
  fi
  fetch
  mkdir -p "$DATA" "$EXEC" "$CONFIG/cli-plugins"
  ln -sfn "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$CONFIG/cli-plugins/docker-buildx"
  printf '{"features": {"containerd-snapshotter": true}}\n' >"$CACHE/$1/daemon.json"
  # Members of the docker group (CI runners' users) may use its socket, as the system engine's.
  group_args=()
  getent group docker >/dev/null && group_args=(--group docker)
  log "starting $1 (log: $LOG)"
  PATH="$ROOT/usr/bin:$ROOT/usr/sbin:$PATH" nohup "$ROOT/usr/sbin/dockerd" \
    --config-file "$CACHE/$1/daemon.json" --data-root "$DATA" --exec-root "$EXEC" \
    --pidfile "$EXEC/dockerd.pid" -H "unix://$SOCKET" \
    --userland-proxy-path "$ROOT/usr/sbin/docker-proxy" "${group_args[@]}" >"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { tail -n 20 "$LOG" >&2; die "$1 did not start"; }
  ip link show docker0 >/dev/null 2>&1 \
    || die "$1 runs but its bridge docker0 is missing: stop it and start it again"
  log "started $1 (pid $(cat "$PID_FILE"), $(DOCKER_HOST="unix://$SOCKET" "$ROOT/usr/bin/docker" version --format 'Engine {{.Server.Version}}'), buildx $(DOCKER_CONFIG="$CONFIG" "$ROOT/usr/bin/docker" buildx version | cut -d' ' -f2)); stop it with: deployment/engines.sh stop $1"
  exports "$1"
}

stop() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    log "$1 was not started by this script; nothing to stop"
    rm -f "$PID_FILE"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then die "$1 (pid $pid) did not stop within 30 s"; fi
  rm -f "$PID_FILE"
  log "stopped $1 (pid $pid)"
}

load_podman() { # load_podman ARCHIVE
  local archive="$1" work tag
  [[ -r "$archive" ]] || die "cannot read the image archive '$archive'"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  if tar -tf "$archive" index.json >/dev/null 2>&1; then
    # Docker 25 and later save an OCI layout beside manifest.json. Podman 4.3 loads that as an
    # OCI image and drops what OCI's config has no field for (HEALTHCHECK); without index.json
    # it loads the same blobs as a Docker image, keeping it.
    tar -xf "$archive" -C "$work"
    rm -f "$work/index.json" "$work/oci-layout"
    tar -cf "$work.tar" -C "$work" .
    archive="$work.tar"
    trap 'rm -rf "$work" "$work.tar"' RETURN
  fi
  CONTAINERS_CONF="$CONFIG/containers.conf" podman load -q -i "$archive" >&2
  # docker save's names carry no registry: Podman files them under localhost/, and its Docker
  # API looks short names up under docker.io/ as Docker does.
  for tag in $(tar -xOf "$archive" manifest.json | python3 -c 'import json, sys
print("\n".join(t for m in json.load(sys.stdin) for t in m.get("RepoTags") or []))'); do
    [[ "$tag" == */* ]] || tag="library/$tag"
    CONTAINERS_CONF="$CONFIG/containers.conf" podman tag "localhost/${tag#library/}" "docker.io/$tag"
  done
  log "loaded $1 into podman"
}

save_image() { # save_image IMAGE ARCHIVE
  local docker base
  docker="$(deployment/docker-client.sh)" || exit 1
  "$docker" image inspect "$1" >/dev/null 2>&1 || die "no image $1 in the engine at ${DOCKER_HOST:-the default socket}"
  base="$("$docker" image inspect -f '{{index .Config.Labels "org.opencontainers.image.base.name"}}' "$1")"
  "$docker" save -o "$2" "$1" ${base:+"$base"}
  log "saved $1${base:+ and its base $base} to $2"
}

status() {
  local pid
  for pid in $(pgrep -f '^podman system service' || true); do
    log "podman service pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline | cut -c1-160)"
  done
  for pid in $(pgrep -x dockerd || true); do
    log "dockerd pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline | cut -c1-160)"
  done
  pgrep -x dockerd >/dev/null || log "no dockerd runs"
}

case "${1:-}" in
  start | stop | env)
    (($# == 2)) || usage
    engine_dirs "$2"
    case "$1" in
      start) start "$2" ;;
      stop) stop "$2" ;;
      env) exports "$2" ;;
    esac ;;
  save)
    (($# == 3)) || usage
    save_image "$2" "$3" ;;
  load)
    (($# == 3)) && [[ "$2" == podman ]] || usage
    engine_dirs podman
    load_podman "$3" ;;
  status) status ;;
  *) usage ;;
esac
