# Release image of the Met search service: a uv builder stage and a shell-less runtime stage.
# Build with BuildKit (DOCKER_BUILDKIT=1 or buildx); deployment/build-image.sh does it for you.
#
# Base images are build arguments. The defaults are the public images; without a registry,
# deployment/base-images.sh makes equivalents from Debian packages. Builder and runtime must
# hold the same interpreter at the same path (/usr/bin/python3.13) for the venv to work.
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
ARG BUILDER_IMAGE=debian:trixie-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/python3-debian13:nonroot

FROM ${UV_IMAGE} AS uv

# ---- builder: resolve the locked dependencies into /app/.venv and compile bytecode ----
FROM ${BUILDER_IMAGE} AS builder

# The public Debian image lacks Python; the local builder image already has it.
RUN if ! command -v python3.13 >/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3.13-minimal libpython3.13-stdlib binutils \
        && rm -rf /var/lib/apt/lists/*; \
    fi

COPY --from=uv /uv /usr/local/bin/uv

# Use the system interpreter, never a downloaded one; copy files out of uv's cache so the
# venv is self-contained. Bytecode is compiled below, after every date is set to 1980-01-01.
ENV UV_PYTHON=/usr/bin/python3.13 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# Reproducible layers: every file and directory the runtime stage copies gets one fixed date,
# 1980-01-01, and bytecode records source hashes, not times. (Not the commit's date: BuildKit's
# cache compares copied files without their dates, so a cached layer would keep the date of
# whichever commit first built that content.) The runtime stage copies /stage/venv/ and
# /stage/app/ onto /, so even /app comes with that date (a COPY to /app/.venv would create /app
# at build time): two builds of one commit give the same layers, cached or not.
# compileall runs in one process: with workers (-j), which strings a worker had interned before
# changes how the bytecode is marshalled, so the same source could give other bytes.

WORKDIR /app

# Dependencies first, from the lock file alone: this layer is reused until uv.lock changes.
# An optional CA bundle (for TLS-intercepting proxies) is mounted as a secret, never stored.
# Shared objects are stripped of debug symbols (uvloop's shrinks from 13.6 to 1.6 MB), and
# uv's world-writable lock file is dropped.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=secret,id=ca_bundle,required=false \
    if [ -s /run/secrets/ca_bundle ]; then export SSL_CERT_FILE=/run/secrets/ca_bundle; fi \
    && uv sync --frozen --no-dev --no-install-project \
    && find /app/.venv -name '*.so' -exec strip --strip-unneeded {} + \
    && rm -f /app/.venv/.lock \
    && /app/.venv/bin/python -m compileall -q --invalidation-mode unchecked-hash \
        /app/.venv/lib/python3.13/site-packages \
    && mkdir -p /stage/venv/app && cp -a /app/.venv /stage/venv/app/ \
    && find /stage/venv -exec touch -h -d @315532800 {} +

# Then the app itself: modes normalised whatever the host's umask, compiled to bytecode that
# is trusted without checking source times (the image never changes its sources).
COPY app /app/app
RUN chmod -R u=rwX,go=rX /app/app \
    && /app/.venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /app/app \
    && mkdir -p /stage/app/app && cp -a /app/app /stage/app/app/ \
    && find /stage/app -exec touch -h -d @315532800 {} +

# ---- stdlib-bytecode: the runtime base's own stdlib, compiled where the base ships no .pyc ----
# Distroless unpacks Debian's packages without their maintainer scripts, so its stdlib has no
# bytecode and every start would compile what it imports (about 0.9 s). This stage compiles, with
# the base's own interpreter and against its own files, only what is missing, into /out, which
# the runtime stage lays over the base: new files only, nothing overwritten. Exec form: the base
# has no shell; -B keeps the compiling interpreter from writing its own imports in place.
FROM ${RUNTIME_IMAGE} AS stdlib-bytecode
# Root only to read the base as its owner; this stage ships nothing but /out's .pyc files.
# hadolint ignore=DL3002
USER 0
RUN ["/usr/bin/python3.13", "-B", "-c", "import importlib.util, os, pathlib, py_compile, sysconfig\nfor src in sorted(pathlib.Path(sysconfig.get_path('stdlib')).rglob('*.py')):\n    pyc = importlib.util.cache_from_source(str(src))\n    if 'site-packages' not in src.parts and not pathlib.Path(pyc).exists():\n        py_compile.compile(str(src), '/out' + pyc, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)\npathlib.Path('/out').mkdir(exist_ok=True)\nepoch = 315532800\nfor path in [pathlib.Path('/out'), *pathlib.Path('/out').rglob('*')]:\n    os.utime(path, (epoch, epoch), follow_symlinks=False)"]

# ---- runtime: the interpreter, the venv and the app, nothing else ----
FROM ${RUNTIME_IMAGE} AS runtime

ARG VERSION=0.0.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://github.com/modern-ml-microservices/modern-ml-microservices
# Which bases this build used (deployment/build-image.sh sets them): public, stand-in or slim.
ARG RUNTIME_IMAGE
ARG BASE_FLAVOUR=public
ARG BASE_DIGEST=unknown
# The platform the image was built for (BuildKit sets it: linux/amd64, linux/arm64).
ARG TARGETPLATFORM

LABEL org.opencontainers.image.title="modern-ml-microservices-app" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}" \
      org.opencontainers.image.base.digest="${BASE_DIGEST}" \
      org.modern-ml-microservices.base-flavour="${BASE_FLAVOUR}" \
      org.modern-ml-microservices.platform="${TARGETPLATFORM}" \
      org.opencontainers.image.description="Met Museum search API (FastAPI)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT"

# The venv's scripts first on PATH; no .pyc writes at run time; logs unbuffered.
ENV PATH=/app/.venv/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Owned by root and read-only for the service user: the app cannot rewrite its own code.
# (/app itself comes from the builder's /stage trees, so the base image's USER never owns it.)
COPY --from=stdlib-bytecode /out/ /
COPY --from=builder /stage/venv/ /
COPY --from=builder /stage/app/ /
WORKDIR /app

# A fixed numeric UID (distroless' nonroot), so `runAsNonRoot` policies can verify it without reading /etc/passwd.
USER 65532:65532

EXPOSE 8000

# Python's own HTTP client probes /health: no shell or curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-m", "app.healthcheck"]

# No inherited ENTRYPOINT decides how the app starts (distroless' is the bare interpreter).
ENTRYPOINT []
CMD ["python", "-m", "app"]
