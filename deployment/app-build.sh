#!/usr/bin/env bash
# Pre-release gate: set up what is missing (uv, a Docker engine, mmdebstrap, a registry on
# loopback, cosign), lint (ruff, hadolint, BuildKit's own Dockerfile checks where the client
# has buildx, actionlint on the GitHub workflows; each verdict goes to the report), build the
# release image, run `uv run pytest` (both suites, the README's test command; the container
# suite also writes the image's SBOM) against exactly that build, the app's unit tests again on
# the image's own interpreter (deployment/unit-tests-in-image.sh), audit the locked runtime
# dependencies, compare the image's Debian packages and Python distributions with what their
# archives offer now (patch currency); when every test passed, release the image it verified (deployment/release.sh:
# push to the local registry, sign its digest, attach the SBOM and the provenance) and verify
# that release from the registry (pytest --pyargs image_checks.release); always end with the
# report: what was measured, on which engine, the release's digest and verdicts, which step and
# which tests failed, JUnit XML, JSON, the SBOM and the public key in reports/. Exits non-zero
# when any step failed.
#
# Usage: deployment/app-build.sh               the whole gate
#        deployment/app-build.sh --build-only  build and tag only (IMAGE_TAG names the one tag)
# Env:   DOCKER_HOST  the engine (default: the local one, started when none answers; Docker 28:
#                     eval "$(deployment/engines.sh start docker-28)" first)
#        BASE_FLAVOUR auto (default), public, stand-in or slim: see deployment/build-image.sh
#        PLATFORM     linux/amd64 or linux/arm64 (default: this machine's); another platform
#                     is built with buildx (Docker 28) and run under QEMU (deployment/emulation.sh)
#        IMAGE_TAG    with --build-only: the one tag to build (default: NAME:VERSION and NAME:latest)
#        REPORT_DIR   where reports go (default: reports)
#        AUDIT_REQUIRED=1  an audit that reached no advisory service fails (CI with network)
#        PATCH_REQUIRED=1  the patch-currency step fails when a Debian package of the image lacks
#                     a security update, a Python distribution is yanked, or an index cannot be
#                     read (deployment/patch_currency.py; CI sets it); without it, it reports
#        RELEASE_REGISTRY, RELEASE_REPOSITORY, COSIGN_KEY: where and with what key the release
#                     is pushed and signed (see deployment/release.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

NAME="modern-ml-microservices-app"
REPORT_DIR="${REPORT_DIR:-reports}"

log() { printf '[app-build] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build_only=false
case "${1:-}" in
  "") ;;
  --build-only) build_only=true ;;
  -h | --help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)"
[[ -n "$VERSION" ]] || die "cannot read the project version from pyproject.toml"
if [[ -n "${IMAGE_TAG:-}" && "$build_only" == true ]]; then
  tags=("$IMAGE_TAG")
else
  tags=("$NAME:$VERSION" "$NAME:latest")
fi

if [[ "$build_only" == true ]]; then
  deployment/prerequisites.sh --no-release || exit 1
  exec deployment/build-image.sh "${tags[@]}"
fi

started=$SECONDS
total=10
step=0
failed=()
run_step() { # run_step TITLE COMMAND...: one numbered, timed step; a failure is recorded
  local title="$1" t0=$SECONDS rc
  shift
  step=$((step + 1))
  log "[$step/$total] $title"
  "$@"
  rc=$?
  if ((rc == 0)); then
    log "[$step/$total] $title: ok in $((SECONDS - t0)) s"
  else
    log "[$step/$total] $title: FAILED (exit $rc) after $((SECONDS - t0)) s"
    failed+=("step $step/$total, $title")
  fi
  return "$rc"
}
skip_step() { # skip_step TITLE REASON
  step=$((step + 1))
  log "[$step/$total] $1: skipped ($2)"
  failed+=("step $step/$total, $1 (not run: $2)")
}

lint_verdicts=()
linter() { # linter NAME COMMAND...: runs one linter, records its verdict for the report
  local name="$1" rc
  shift
  "$@"
  rc=$?
  case "$rc" in
    0) lint_verdicts+=("\"$name\": \"passed\"") ;;
    3) if [[ "$name" == buildkit-checks ]]; then
         lint_verdicts+=("\"$name\": \"not on this engine (its docker client has no buildx)\"")
         return 0
       fi
       lint_verdicts+=("\"$name\": \"failed (exit $rc)\"") ;;
    *) lint_verdicts+=("\"$name\": \"failed (exit $rc)\"") ;;
  esac
  ((rc == 0))
}
lint() { # every linter runs, so the report has each verdict; the step fails if any failed
  local ok=0
  linter ruff bash -c 'uv run --frozen ruff check . && uv run --frozen ruff format --check .' || ok=1
  linter hadolint uv run --frozen hadolint --config .hadolint.yaml Dockerfile || ok=1
  # BuildKit's own Dockerfile checks, with the bases and arguments of the build (exit 3: this
  # engine's client has no buildx, so nothing was checked, and the report says so).
  linter "buildkit-checks" deployment/build-image.sh --check || ok=1
  linter actionlint uv run --frozen actionlint || ok=1
  (IFS=,; printf '{%s}\n' "${lint_verdicts[*]}") >"$REPORT_DIR/lint.json"
  return "$ok"
}

mkdir -p "$REPORT_DIR"
rm -f "$REPORT_DIR/tests.xml" "$REPORT_DIR/image-facts.json" "$REPORT_DIR/audit.json" \
  "$REPORT_DIR/sbom.cdx.json" "$REPORT_DIR/unit-tests-image.xml" "$REPORT_DIR/lint.json" \
  "$REPORT_DIR/build.json" "$REPORT_DIR/release.json" "$REPORT_DIR/release-facts.json" \
  "$REPORT_DIR/release-tests.xml" "$REPORT_DIR/provenance.json" "$REPORT_DIR/cosign.pub" \
  "$REPORT_DIR/patches.json"

if run_step "prerequisites (uv, Docker engine, mmdebstrap, registry, cosign)" \
  deployment/prerequisites.sh; then
  run_step "lint (ruff, hadolint, BuildKit's checks, actionlint)" lint
  if run_step "build ${tags[*]}" \
    env BUILD_RECORD="$REPORT_DIR/build.json" deployment/build-image.sh "${tags[@]}"; then
    # Two xdist workers; coverage of app/ with its 90 % gate (the whole unit suite runs); a test
    # skipped, xfailed or deselected, or none run, fails the step (--require-complete). The
    # plugin's options take their values after "=": pytest finds its rootdir before it loads
    # plugins, and would take a separate value (a reports folder elsewhere) for a test path.
    run_step "tests: uv run pytest (unit suite, then the image-verification suite)" \
      uv run pytest -n 2 --cov=app --cov-report=term-missing --require-complete \
      --image="${tags[0]}" --image-reports="$REPORT_DIR" --junitxml="$REPORT_DIR/tests.xml"
    tested=$?
    # The app's unit tests again, on the interpreter the image ships, in its builder stage.
    run_step "the app's unit tests on the image's Python (builder stage)" \
      env REPORT_DIR="$REPORT_DIR" deployment/unit-tests-in-image.sh || tested=1
  else
    tested=1
    skip_step "tests" "no image was built"
    skip_step "the app's unit tests on the image's Python" "no image was built"
  fi
  run_step "audit (runtime dependencies, pip-audit)" \
    uv run --frozen python deployment/audit.py --out "$REPORT_DIR/audit.json" \
    ${AUDIT_REQUIRED:+--require}
  # The image's packages against Debian's archive indexes and the package index, from the
  # SBOM the suite checked; with PATCH_REQUIRED=1 a security update it lacks fails the gate.
  if [[ -s "$REPORT_DIR/sbom.cdx.json" ]]; then
    run_step "patch currency (Debian's security and point-release updates, PyPI)" \
      uv run --frozen python deployment/patch_currency.py --image "${tags[0]}" \
      --sbom "$REPORT_DIR/sbom.cdx.json" --out "$REPORT_DIR/patches.json" \
      ${PATCH_REQUIRED:+--require} || tested=1
  else
    skip_step "patch currency" "no SBOM: the suite did not write one"
    tested=1
  fi
  # Only an image every test passed on (and, with PATCH_REQUIRED, that lacks no security
  # update) is released, and its release is verified from the registry: the tag names the
  # signed digest, which is the image tested, and the signature, the SBOM and the provenance
  # verify with the public key in the reports.
  if ((tested == 0)) \
    && run_step "release: push, sign, attest the SBOM and the provenance" \
      env REPORT_DIR="$REPORT_DIR" deployment/release.sh "${tags[0]}"; then
    run_step "release checks, from the registry (pytest --pyargs image_checks.release)" \
      uv run pytest --pyargs image_checks.release -p no:cacheprovider --require-complete \
      --image="${tags[0]}" --release="$REPORT_DIR/release.json" --image-reports="$REPORT_DIR" \
      --junitxml="$REPORT_DIR/release-tests.xml"
  elif ((tested != 0)); then
    skip_step "release" "the tests or the patch policy did not pass: only a verified image is released"
    skip_step "release checks" "nothing was released"
  else
    skip_step "release checks" "the release failed"
  fi
  run_step "report" uv run --frozen python deployment/summary.py --image "${tags[0]}" \
    --reports "$REPORT_DIR" --seconds "$((SECONDS - started))"
else
  log "nothing else can run without the prerequisites"
fi

if ((${#failed[@]})); then
  log "gate FAILED in $((SECONDS - started)) s:"
  printf '[app-build]   %s\n' "${failed[@]}" >&2
  exit 1
fi
log "gate passed in $((SECONDS - started)) s; reports in $REPORT_DIR/"
