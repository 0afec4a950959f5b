#!/usr/bin/env bash
# Pre-release gate: lint, unit tests with coverage, base images if needed, build the release
# image, run the image-verification suite against exactly that build, print a summary and
# write JUnit XML and JSON reports to reports/. Exits non-zero on any failure.
#
# Usage: deployment/app-build.sh               the whole gate
#        deployment/app-build.sh --build-only  build and tag only (honours IMAGE_TAG)
# Env:   IMAGE_TAG   with --build-only: the one tag to build (default: NAME:VERSION and NAME:latest)
#        DOCKER      a BuildKit-capable docker client (default: what deployment/docker-client.sh finds)
#        REPORT_DIR  where reports go (default: reports)
set -euo pipefail
cd "$(dirname "$0")/.."

NAME="modern-ml-microservices-app"
REPORT_DIR="${REPORT_DIR:-reports}"

log() { printf '[app-build] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build_only=false
case "${1:-}" in
  "") ;;
  --build-only) build_only=true ;;
  -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

command -v uv >/dev/null || die "uv is missing: pip install uv (or see https://docs.astral.sh/uv/)"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)"
[[ -n "$VERSION" ]] || die "cannot read the project version from pyproject.toml"

DOCKER="$(deployment/docker-client.sh)" || exit 1
export DOCKER DOCKER_BUILDKIT=1
"$DOCKER" info >/dev/null 2>&1 || die "no Docker engine answers to '$DOCKER info': start dockerd first"

# The Dockerfile's default base images when they can be had, else the local Debian-made ones.
base_image_args=()
resolve_base_images() {
  local arg image missing=()
  for arg in UV_IMAGE BUILDER_IMAGE RUNTIME_IMAGE; do
    image="$(sed -n "s/^ARG $arg=//p" Dockerfile)"
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 && continue
    timeout 120 "$DOCKER" pull -q "$image" >/dev/null 2>&1 || missing+=("$image")
  done
  ((${#missing[@]} == 0)) && return 0
  log "default base images unavailable (${missing[*]}); using local Debian-made base images (deployment/base-images.sh)"
  local images line
  images="$(deployment/base-images.sh)"
  while IFS= read -r line; do base_image_args+=(--build-arg "$line"); done <<<"$images"
}

build_image() { # build_image TAG...: build the release image under every TAG
  local tags=("$@") tag_args=() secret_args=() previous
  for tag in "${tags[@]}"; do tag_args+=(-t "$tag"); done
  previous="$("$DOCKER" image inspect -f '{{.Id}}' "${tags[0]}" 2>/dev/null || true)"
  # An optional CA bundle for the package index, passed as a secret, never stored in a layer.
  if [[ -n "${SSL_CERT_FILE:-}" && -r "$SSL_CERT_FILE" ]]; then
    secret_args=(--secret "id=ca_bundle,src=$SSL_CERT_FILE")
  fi
  # Labels that are the same for the same commit, so rebuilding one commit changes nothing.
  local revision created
  revision="$(git rev-parse --verify --quiet HEAD 2>/dev/null || echo unknown)"
  created="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"
  log "building ${tags[*]} with $DOCKER (BuildKit)"
  "$DOCKER" build "${tag_args[@]}" "${base_image_args[@]}" "${secret_args[@]}" \
    --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" \
    --build-arg "CREATED=$created" .
  # Safe to run twice: the image this build replaced under the same tag leaves no dangling copy.
  if [[ -n "$previous" && "$previous" != "$("$DOCKER" image inspect -f '{{.Id}}' "${tags[0]}")" ]]; then
    "$DOCKER" rmi "$previous" >/dev/null 2>&1 || true
  fi
}

if [[ "${IMAGE_TAG:-}" != "" && "$build_only" == true ]]; then
  tags=("$IMAGE_TAG")
else
  tags=("$NAME:$VERSION" "$NAME:latest")
fi

if [[ "$build_only" == true ]]; then
  resolve_base_images
  build_image "${tags[@]}"
  log "built ${tags[*]}"
  exit 0
fi

started=$SECONDS
step=0
current_step=""
trap 'rc=$?; if ((rc != 0)) && [[ -n "$current_step" ]]; then log "FAILED: $current_step (exit $rc)"; fi' EXIT
run_step() { # run_step TITLE COMMAND...: one numbered, timed gate step; set -e stops on failure
  local title="$1" t0=$SECONDS
  shift
  step=$((step + 1))
  current_step="step $step/5, $title"
  log "[$step/5] $title"
  "$@"
  current_step=""
  log "[$step/5] $title: ok in $((SECONDS - t0)) s"
}
mkdir -p "$REPORT_DIR"

run_step "lint (ruff, hadolint)" sh -c 'uv run --frozen ruff check . && uv run --frozen ruff format --check . && uv run --frozen hadolint --config .hadolint.yaml Dockerfile'
run_step "unit tests with coverage" uv run --frozen pytest unit_tests \
  --junitxml="$REPORT_DIR/unit-tests.xml"
run_step "base images" resolve_base_images
run_step "build ${tags[*]}" build_image "${tags[@]}"
run_step "image-verification suite" env APP_IMAGE="${tags[0]}" \
  CONTAINER_FACTS="$REPORT_DIR/container-facts.json" \
  uv run --frozen pytest container_tests --no-cov --junitxml="$REPORT_DIR/container-tests.xml"

uv run --frozen python deployment/summary.py --image "${tags[0]}" \
  --reports "$REPORT_DIR" --seconds "$((SECONDS - started))"
