#!/usr/bin/env bash
# The app's unit tests on the interpreter the image ships: builds the Dockerfile's builder stage
# (the interpreter, uv and the runtime venv the release image copies), installs the locked dev
# dependencies for that interpreter into a throwaway venv inside a container of it, and runs
# the unit tests of app/ there against this checkout, mounted read-only. The tests of the tools
# around the app (unit_tests/deployment/, the benchmark's figures, the image table's pin, the
# suite's memory helper) run on the host only: those tools never run on the image's Python.
# The container runs as the caller's user; uv's downloads are kept in the caller's cache.
#
# Usage: deployment/unit-tests-in-image.sh [PYTEST ARGS...]   (default: the app's unit tests)
# Env:   BASE_FLAVOUR  as deployment/build-image.sh (the builder of that flavour)
#        REPORT_DIR    where the JUnit XML goes, as unit-tests-image.xml (default: reports)
#        SSL_CERT_FILE a CA bundle for the package index (default: the system bundle)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[unit-tests-in-image] %s\n' "$*" >&2; }

TAG="modern-ml-microservices-builder:unit-tests"
REPORT_DIR="${REPORT_DIR:-reports}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/modern-ml-microservices/uv-image"
mkdir -p "$REPORT_DIR" "$CACHE"
rm -f "$REPORT_DIR/unit-tests-image.xml"
what="$*"
if (($# == 0)); then
  set -- unit_tests --ignore=unit_tests/deployment \
    --ignore=unit_tests/test_benchmark_figures.py --ignore=unit_tests/test_image_table.py \
    --ignore=unit_tests/test_memory_stats.py
  what="the app's unit tests"
fi

TARGET=builder deployment/build-image.sh "$TAG"
DOCKER="$(deployment/docker-client.sh)"
python="$("$DOCKER" run --rm --entrypoint /usr/bin/python3.13 "$TAG" -c \
  'import platform; print(platform.python_version())')"
log "running $what on Python $python (the builder stage of the image)"
# The package index is reached with the host's CA bundle (as the build's secret), when it has one.
ca_args=()
ca_bundle="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -r "$ca_bundle" ]]; then
  ca_args=(-v "$(realpath "$ca_bundle"):/run/ca-bundle.pem:ro" -e SSL_CERT_FILE=/run/ca-bundle.pem)
fi
# The suite's name in the JUnit XML says which interpreter ran it. The pytest plugins the unit
# suite does not use (schemathesis and hypothesis, xdist, coverage) are not loaded: under QEMU
# their imports alone took about 20 s.
"$DOCKER" run --rm --user "$(id -u):$(id -g)" -e HOME=/tmp "${ca_args[@]}" \
  -e UV_CACHE_DIR=/uv-cache -e UV_PROJECT_ENVIRONMENT=/tmp/unit-venv -e UV_LINK_MODE=copy \
  -e UV_PYTHON=/usr/bin/python3.13 -e UV_PYTHON_DOWNLOADS=never -e PYTHONDONTWRITEBYTECODE=1 \
  -v "$PWD:/src:ro" -v "$(realpath "$REPORT_DIR"):/reports" -v "$CACHE:/uv-cache" -w /src \
  --entrypoint /bin/sh "$TAG" -c '
    uv sync --frozen --no-install-project --group dev --quiet \
      && exec /tmp/unit-venv/bin/python -m pytest -p no:cacheprovider -p no:schemathesis \
        -p no:hypothesispytest -p no:xdist -p no:xdist.looponfail -p no:pytest_cov \
        -q --require-complete \
        -o junit_suite_name="python-$0" --junitxml=/reports/unit-tests-image.xml "$@"' \
  "$python" "$@"
