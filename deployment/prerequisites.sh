#!/usr/bin/env bash
# Sets up what the gate and the suites need, when it can, and says what it did:
#   uv                       pip install uv (for the user running this)
#   a BuildKit docker client Debian's docker.io (apt, as root)
#   a Docker engine          starts dockerd in the background when none answers (as root); it
#                            keeps running for `uv run pytest`; the line printed says how to stop it.
#                            With DOCKER_HOST set, that engine must answer (deployment/engines.sh
#                            starts Docker 28)
#   mmdebstrap               Debian's mmdebstrap (apt, as root), for the local base images;
#                            not needed when BASE_FLAVOUR=public
#   chromium, chromedriver   Debian's chromium and chromium-driver (apt, as root), for the
#                            container suite's browser test of /docs (no download at run time)
#   docker-compose           Debian's docker-compose (apt, as root), for compose.yaml (the
#                            README's local exploration); only a warning when it cannot
#   a registry on loopback   Debian's docker-registry (apt, as root), started on 127.0.0.1
#                            (deployment/registry.sh, storage in a temporary folder) when none
#                            answers; it keeps running for the release steps and their checks;
#                            the line printed says how to stop it
#   cosign                   Debian trixie's cosign (pinned below), unpacked into a private prefix
#                            and linked as /usr/local/bin/cosign when no cosign is on PATH
#   jq                       Debian's jq (apt, as root), for the README's release commands; only
#                            a warning when it cannot
#   ARM emulation            with PLATFORM naming another machine's platform (linux/arm64 on
#                            amd64): QEMU 10 registered with binfmt_misc (deployment/emulation.sh),
#                            and Debian's arch-test (apt, as root), which mmdebstrap asks for
# When it cannot (not root, no apt, another OS) it stops with the exact commands to run.
# Safe to run twice: what is there is used as it is.
#
# Usage: deployment/prerequisites.sh [--no-release]   (--no-release: no registry, cosign, jq;
#                                                     what a build alone needs)
# Env:   BASE_FLAVOUR, PLATFORM (see deployment/build-image.sh), DOCKERD_LOG (default
#        /tmp/dockerd.log)
# Files: /tmp/modern-ml-microservices-dockerd.pid holds the pid of a dockerd this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
registry=""

PID_FILE="/tmp/modern-ml-microservices-dockerd.pid"
COSIGN_PACKAGE="trixie cosign 2.5.0-2+b5"  # signs offline: keys, no transparency log
CACHE="${ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modern-ml-microservices/engines}"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"

log() { printf '[prerequisites] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

release=true
case "${1:-}" in
  "") ;;
  --no-release) release=false ;;
  *) die "unknown argument '$1' (usage: deployment/prerequisites.sh [--no-release])" ;;
esac

can_apt() { [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; }
apt_install() { # apt_install PACKAGE...: installs Debian packages, saying so
  log "installing $* (apt-get)"
  # A fresh machine's package lists may be empty.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# uv
if ! command -v uv >/dev/null 2>&1; then
  if python3 -m pip --version >/dev/null 2>&1; then
    log "installing uv (python3 -m pip install uv)"
    python3 -m pip install --quiet --disable-pip-version-check uv
    hash -r
  fi
  command -v uv >/dev/null 2>&1 \
    || die "uv is missing: run 'python3 -m pip install uv' (or see https://docs.astral.sh/uv/), then run this again"
fi

# A docker client that builds with BuildKit, and dockerd.
if ! deployment/docker-client.sh >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
  if can_apt; then
    apt_install docker.io
  else
    die "no Docker engine or BuildKit-capable client: as root run 'apt-get update && apt-get install -y docker.io' (or install Docker with the buildx plugin), then run this again"
  fi
fi
DOCKER="$(deployment/docker-client.sh)"

# A running engine.
if ! "$DOCKER" info >/dev/null 2>&1; then
  [[ -z "${DOCKER_HOST:-}" ]] \
    || die "no engine answers at DOCKER_HOST=$DOCKER_HOST: start it (Docker 28: eval \"\$(deployment/engines.sh start docker-28)\"), or unset DOCKER_HOST for the local engine"
  [[ "$(id -u)" == 0 ]] \
    || die "no Docker engine answers: start one ('sudo dockerd &' or 'sudo systemctl start docker'), then run this again"
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 0.5; done
  "$DOCKER" info >/dev/null 2>&1 || { tail -n 20 "$DOCKERD_LOG" >&2; die "dockerd did not start"; }
  log "started dockerd (pid $(cat "$PID_FILE")); it keeps running for 'uv run pytest'; stop it with: kill $(cat "$PID_FILE")"
fi

# An emulator, when the image is built for another machine's platform.
native="linux/$(dpkg --print-architecture 2>/dev/null || echo amd64)"
if [[ -n "${PLATFORM:-}" && "$PLATFORM" != "$native" ]]; then
  deployment/emulation.sh status 2>/dev/null || deployment/emulation.sh start
  # mmdebstrap checks with arch-test that the foreign architecture's programs run.
  if [[ "${BASE_FLAVOUR:-auto}" != public ]] && ! command -v arch-test >/dev/null 2>&1; then
    can_apt || die "arch-test is missing (mmdebstrap needs it for $PLATFORM bases): as root run 'apt-get install -y arch-test'"
    apt_install arch-test
  fi
fi

# mmdebstrap, for the local base images.
if [[ "${BASE_FLAVOUR:-auto}" != public ]] && ! command -v mmdebstrap >/dev/null 2>&1; then
  if can_apt; then
    apt_install mmdebstrap
  else
    die "mmdebstrap is missing (it makes the local base images): as root run 'apt-get update && apt-get install -y mmdebstrap', then run this again"
  fi
fi

# Chromium and ChromeDriver, for the browser test of /docs (CHROMIUM_BINARY and CHROMEDRIVER
# name others, as container_tests/browser.py reads them).
if [[ ! -x "${CHROMIUM_BINARY:-/usr/bin/chromium}" || ! -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]]; then
  if can_apt; then
    apt_install chromium chromium-driver
  else
    die "Chromium is missing (the container suite's browser test of /docs needs it): as root run 'apt-get update && apt-get install -y chromium chromium-driver', then run this again"
  fi
fi

# docker-compose, for compose.yaml; the gate itself does not need it.
if ! command -v docker-compose >/dev/null 2>&1; then
  if can_apt; then
    apt_install docker-compose
  else
    log "note: docker-compose is missing (only compose.yaml needs it): as root run 'apt-get install -y docker-compose'"
  fi
fi

if [[ "$release" == true ]]; then
  # The release: a registry on loopback, and cosign to sign and attest what the gate pushes there.
  if ! command -v docker-registry >/dev/null 2>&1; then
    if can_apt; then
      apt_install docker-registry
    else
      die "docker-registry is missing (the release is pushed to a local registry): as root run 'apt-get update && apt-get install -y docker-registry', then run this again"
    fi
  fi
  registry="$(deployment/registry.sh start)"
  # jq, for the README's commands that read the release's digest from the report.
  if ! command -v jq >/dev/null 2>&1; then
    if can_apt; then
      apt_install jq
    else
      log "note: jq is missing (only the README's release commands need it): as root run 'apt-get install -y jq'"
    fi
  fi
  if ! command -v cosign >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 ]] \
      || die "cosign is missing (it signs the release): install cosign 2 (https://docs.sigstore.dev/cosign/system_config/installation/) or run this as root, then run this again"
    deployment/debian-fetch.sh "$CACHE/cosign/root" "$COSIGN_PACKAGE"
    ln -sfn "$CACHE/cosign/root/usr/bin/cosign" /usr/local/bin/cosign
    hash -r
    log "linked /usr/local/bin/cosign to Debian's cosign ($COSIGN_PACKAGE)"
  fi
fi

log "ready: $(uv --version), docker client $DOCKER, engine $("$DOCKER" version --format '{{.Server.Version}}')${registry:+, registry $registry, cosign $(command -v cosign)}"
