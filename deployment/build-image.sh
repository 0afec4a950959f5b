#!/usr/bin/env bash
# The one build entry: builds the release image from this checkout with BuildKit, on the base
# flavour BASE_FLAVOUR names, and tags it. The gate, the container suite and the benchmarks all
# build through this script.
#
# How: with the buildx plugin on an engine with the containerd image store (Docker 28 from
# deployment/engines.sh), `buildx build` exports an OCI archive with every timestamp of its
# files, config and history clamped to 1980-01-01 (the date the Dockerfile gives every file;
# the label org.opencontainers.image.created carries the commit's time) and loads it: two builds
# of one commit give the same image id and manifest digest, cached or not. The epoch goes to the
# exporter only, and is fixed: BuildKit clamps only times after it, so with the commit's time a
# step cached before the commit would keep its older time; and as a build argument it would
# enter every later step's cache key, reinstalling the dependencies at each commit. With buildx
# on the classic store (GitHub's runners), whose docker exporter ignores an exporter epoch, the
# same fixed epoch is a build argument. With an older client (Debian's Docker 20.10), its
# built-in BuildKit builds as it is.
#
# Usage: deployment/build-image.sh TAG [TAG...]
#        deployment/build-image.sh --check   BuildKit's own Dockerfile checks (buildx build
#                                            --check) with the same bases and arguments; exit 3
#                                            when this client has no buildx (nothing checked)
# Env:   BASE_FLAVOUR  auto (default)  the public bases when they can be pulled, else their
#                                      local stand-in (one line says so)
#                      public          the Dockerfile's public bases, required: fails when
#                                      they cannot be pulled (CI with a registry)
#                      stand-in        local stand-ins of the public bases (base-images.sh)
#                      slim            this project's smaller local bases (base-images.sh)
#        DOCKER        a BuildKit-capable docker client (default: what docker-client.sh finds)
#        SSL_CERT_FILE a CA bundle for the package index, passed as a build secret (default:
#                      the system bundle, /etc/ssl/certs/ca-certificates.crt, when there is one)
#        NO_CACHE=1    build without the BuildKit cache (the reproducibility check does)
#        TARGET        a stage of the Dockerfile to build instead of the release image
#                      (builder: the unit suite runs there on the image's own interpreter)
#        PLATFORM      linux/amd64 or linux/arm64 (default: this machine's); another machine's
#                      platform needs buildx (Docker 28: deployment/engines.sh) and an emulator
#                      (deployment/emulation.sh); its local bases are made for that platform
#        BUILD_RECORD  a file to write what the build was given, as JSON: the bases by digest,
#                      the build arguments, the builder, client and engine versions, the times
#                      (deployment/build_record.py; the release's provenance is made from it)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

(($# > 0)) || die "usage: deployment/build-image.sh TAG [TAG...] | --check"
check=false
[[ "$1" == --check ]] && check=true
FLAVOUR="${BASE_FLAVOUR:-auto}"
case "$FLAVOUR" in
  auto | public | stand-in | slim) ;;
  *) die "BASE_FLAVOUR=$FLAVOUR is not one of auto, public, stand-in, slim" ;;
esac

DOCKER="$(deployment/docker-client.sh)" || exit 1
export DOCKER DOCKER_BUILDKIT=1
"$DOCKER" info >/dev/null 2>&1 \
  || die "no Docker engine answers to '$DOCKER info': run ./deployment/app-build.sh (it starts one) or start dockerd"
# Which builder: buildx when this client has it; the image store decides how buildx exports.
builder=classic
if "$DOCKER" buildx version >/dev/null 2>&1; then
  builder=buildx
  "$DOCKER" info -f '{{json .DriverStatus}}' | grep -q io.containerd.snapshotter && builder=buildx-oci
fi
if [[ "$check" == true && "$builder" == classic ]]; then
  log "BuildKit's Dockerfile checks: not on this engine ($DOCKER $("$DOCKER" version --format '{{.Client.Version}}') has no buildx; its built-in BuildKit has no build checks)"
  exit 3
fi
NATIVE="linux/$(dpkg --print-architecture 2>/dev/null || uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')"
export PLATFORM="${PLATFORM:-$NATIVE}"
case "$PLATFORM" in
  linux/amd64 | linux/arm64) ;;
  *) die "PLATFORM=$PLATFORM is not one of linux/amd64, linux/arm64" ;;
esac
if [[ "$PLATFORM" != "$NATIVE" && "$builder" == classic ]]; then
  die "building for $PLATFORM on a $NATIVE machine needs buildx, which $DOCKER lacks: use Docker 28 (eval \"\$(deployment/engines.sh start docker-28)\")"
fi
if [[ "$check" == true && "$PLATFORM" != "$NATIVE" ]]; then
  # buildx's --check resolves the bases for this machine's platform whatever --platform says
  # ("no match for platform in manifest"); the Dockerfile is the same for every platform.
  log "BuildKit's Dockerfile checks run with this machine's bases ($NATIVE), not $PLATFORM's"
  PLATFORM="$NATIVE"
fi
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)"
[[ -n "$VERSION" ]] || die "cannot read the project version from pyproject.toml"

# The public bases: the defaults of the Dockerfile's ARGs.
public_bases() {
  local arg
  for arg in UV_IMAGE BUILDER_IMAGE RUNTIME_IMAGE; do
    printf '%s=%s\n' "$arg" "$(sed -n "s/^ARG $arg=//p" Dockerfile)"
  done
}

pull_public_bases() { # true when every public base is present or could be pulled
  local line image missing=()
  while IFS= read -r line; do
    image="${line#*=}"
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 && continue
    timeout 300 "$DOCKER" pull -q --platform "$PLATFORM" "$image" >/dev/null 2>&1 \
      || missing+=("$image")
  done < <(public_bases)
  ((${#missing[@]} == 0)) && return 0
  log "public base images cannot be pulled: ${missing[*]}"
  return 1
}

case "$FLAVOUR" in
  public)
    pull_public_bases || die "BASE_FLAVOUR=public requires the public bases; no fallback"
    bases="$(public_bases)" ;;
  auto)
    if pull_public_bases; then
      FLAVOUR=public
      bases="$(public_bases)"
    else
      log "using their local stand-in instead (BASE_FLAVOUR=stand-in; deployment/base-images.sh)"
      FLAVOUR=stand-in
      bases="$(deployment/base-images.sh stand-in)"
    fi ;;
  *) bases="$(deployment/base-images.sh "$FLAVOUR")" ;;
esac

build_args=()
while IFS= read -r line; do build_args+=(--build-arg "$line"); done <<<"$bases"
runtime="$(sed -n 's/^RUNTIME_IMAGE=//p' <<<"$bases")"
digest_of() { # an image's digest: the registry's when it was pulled, else the local image id
  local digest
  digest="$("$DOCKER" image inspect -f '{{range .RepoDigests}}{{.}} {{end}}' "$1" | cut -d' ' -f1)"
  digest="${digest#*@}"
  [[ -n "$digest" ]] || digest="$("$DOCKER" image inspect -f '{{.Id}}' "$1")"
  echo "$digest"
}
base_digest="$(digest_of "$runtime")"

# Labels that are the same for the same commit, so rebuilding one commit changes nothing; a
# tree with uncommitted changes is marked, so the label never claims a commit it is not.
revision="$(git rev-parse --verify --quiet HEAD 2>/dev/null || echo unknown)"
if [[ "$revision" != unknown && -n "$(git status --porcelain 2>/dev/null)" ]]; then
  revision="$revision-dirty"
fi
created="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"
EPOCH=315532800  # 1980-01-01T00:00:00Z, as every file of the image

secret_args=()
ca_bundle="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -r "$ca_bundle" ]]; then
  secret_args=(--secret "id=ca_bundle,src=$ca_bundle")
fi
common_args=("${build_args[@]}" "${secret_args[@]}"
  --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision"
  --build-arg "CREATED=$created" --build-arg "BASE_FLAVOUR=$FLAVOUR"
  --build-arg "BASE_DIGEST=$base_digest")
if [[ "$check" == true ]]; then
  log "BuildKit's Dockerfile checks (buildx build --check) on the $FLAVOUR bases"
  exec "$DOCKER" buildx build --check --platform "$PLATFORM" "${common_args[@]}" .
fi

previous="$("$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)"
started_on="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
cache_args=()
[[ "${NO_CACHE:-}" == 1 ]] && cache_args=(--no-cache)
[[ -n "${TARGET:-}" ]] && cache_args+=(--target "$TARGET")
log "building $* for $PLATFORM on the $FLAVOUR bases (runtime $runtime) with $DOCKER ($builder)"
case "$builder" in
  buildx-oci)
    archive="$(mktemp --suffix=.oci.tar)"
    trap 'rm -f "$archive"' EXIT
    env -u SOURCE_DATE_EPOCH "$DOCKER" buildx build --provenance=false "${common_args[@]}" \
      "${cache_args[@]}" --platform "$PLATFORM" \
      --output "type=oci,dest=$archive,name=$1,rewrite-timestamp=true,source-date-epoch=$EPOCH" .
    "$DOCKER" load -q -i "$archive" >/dev/null ;;
  buildx)
    # The docker exporter on the classic store ignores an exporter epoch; the frontend takes
    # it as a build argument (fixed, so it is the same cache key at every commit).
    "$DOCKER" buildx build --provenance=false "${common_args[@]}" "${cache_args[@]}" \
      --platform "$PLATFORM" --build-arg "SOURCE_DATE_EPOCH=$EPOCH" \
      --output "type=docker,name=$1" . ;;
  classic)
    "$DOCKER" build -t "$1" "${common_args[@]}" "${cache_args[@]}" . ;;
esac
for tag in "${@:2}"; do "$DOCKER" tag "$1" "$tag"; done
# Safe to run twice: the image this build replaced under the same tag leaves no dangling copy.
if [[ -n "$previous" && "$previous" != "$("$DOCKER" image inspect -f '{{.Id}}' "$1")" ]]; then
  "$DOCKER" rmi "$previous" >/dev/null 2>&1 || true
fi
if [[ -n "${BUILD_RECORD:-}" ]]; then
  record_args=()
  while IFS= read -r line; do record_args+=(--base "$line=$(digest_of "${line#*=}")"); done <<<"$bases"
  python3 deployment/build_record.py --out "$BUILD_RECORD" --builder "$builder" \
    --client "$("$DOCKER" version --format '{{.Client.Version}}')" \
    --engine "$("$DOCKER" version --format '{{.Server.Version}}')" \
    --buildx "$("$DOCKER" buildx version 2>/dev/null | cut -d' ' -f2 || true)" \
    --started "$started_on" --target "${TARGET:-}" --no-cache "${NO_CACHE:-0}" \
    --platform "$PLATFORM" \
    "${record_args[@]}" --arg "VERSION=$VERSION" --arg "REVISION=$revision" \
    --arg "CREATED=$created" --arg "BASE_FLAVOUR=$FLAVOUR" --arg "BASE_DIGEST=$base_digest" \
    --image-id "$("$DOCKER" image inspect -f '{{.Id}}' "$1")" "$@"
fi
log "built $* for $PLATFORM ($FLAVOUR bases)"
