#!/usr/bin/env bash
# Makes the local base images the Dockerfile needs when no registry can be reached:
#   uv image       FROM-scratch image holding /uv (the version pinned in the Dockerfile)
#   builder image  Debian trixie with Python 3.13 at /usr/bin/python3.13, a shell and binutils
#   runtime image  Debian trixie, Python 3.13 at the same path, no shell, user nonroot (65532);
#                  no charset modules (Python has its own codecs), stdlib tests, IDLE, Tk,
#                  debconf or perl; the stdlib compiled to bytecode (no maintainer script did)
# Built from Debian packages with mmdebstrap and `docker import` (the extract variant runs no
# maintainer scripts, so the hooks below do what they would: links, CA bundle, users).
# Idempotent: an image whose label records the same inputs (this script and the pinned uv
# version) is reused as it is.
#
# Usage: deployment/base-images.sh        prints UV_IMAGE=..., BUILDER_IMAGE=..., RUNTIME_IMAGE=...
# Env:   DOCKER (docker client, default docker), DEBIAN_SUITE (default trixie)
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER="${DOCKER:-docker}"
SUITE="${DEBIAN_SUITE:-trixie}"
REPO="modern-ml-microservices"
RUNTIME_UID=65532
LABEL="org.modern-ml-microservices.base-inputs"

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install -y mmdebstrap"
command -v uv >/dev/null || die "uv is missing: pip install uv"
"$DOCKER" info >/dev/null 2>&1 || die "no Docker engine answers to '$DOCKER info'"

# The uv version is pinned once, in the Dockerfile's default UV_IMAGE.
UV_VERSION="$(sed -n 's|^ARG UV_IMAGE=.*uv:\([0-9.]*\).*|\1|p' Dockerfile)"
[[ -n "$UV_VERSION" ]] || die "cannot read the pinned uv version from Dockerfile (ARG UV_IMAGE=...uv:X.Y.Z)"
INPUTS="$( (cat "$0"; echo "$UV_VERSION $SUITE") | sha256sum | cut -c1-16)"

UV_IMAGE="$REPO/uv:$UV_VERSION"
BUILDER_IMAGE="$REPO/python-builder:3.13-$SUITE"
RUNTIME_IMAGE="$REPO/python-runtime:3.13-$SUITE"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

current() { # current IMAGE: true when IMAGE exists and was made from these inputs
  [[ "$("$DOCKER" image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null)" == "$INPUTS" ]]
}

import_tarball() { # import_tarball TARBALL IMAGE [--change ...]: import, drop what it replaced
  local tarball="$1" image="$2" old
  shift 2
  old="$("$DOCKER" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
  "$DOCKER" import --change "LABEL $LABEL=$INPUTS" "$@" "$tarball" "$image" >/dev/null
  if [[ -n "$old" ]]; then "$DOCKER" rmi "$old" >/dev/null 2>&1 || true; fi
  log "made $image ($("$DOCKER" image inspect -f '{{.Size}}' "$image" | numfmt --to=si)B)"
}

# Shared hooks: the usr-merge links and /usr/bin/python3 that these variants lack, a sticky
# /tmp, and no docs, manuals, locales or package lists. mmdebstrap skips customize hooks for
# the extract variant, so each image passes them under the hook option its variant runs.
common_hooks=(
  'for d in bin lib lib64 sbin; do [ -e "$1/$d" ] || ln -s "usr/$d" "$1/$d"; done'
  'ln -sf python3.13 "$1/usr/bin/python3"'
  'mkdir -p "$1/tmp" && chmod 1777 "$1/tmp"'
  'rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man "$1"/usr/share/info "$1"/usr/share/locale "$1"/usr/share/lintian'
)
hooks() { # hooks OPTION [EXTRA_HOOK...]: the common hooks and any extra ones as --OPTION=...
  local option="$1" hook
  shift
  for hook in "${common_hooks[@]}" "$@"; do printf -- '--%s=%s\0' "$option" "$hook"; done
}
PATH_ENV="ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

if current "$UV_IMAGE"; then
  log "reusing $UV_IMAGE"
else
  log "making $UV_IMAGE from the uv $UV_VERSION wheel (PyPI)"
  uv pip install --quiet --no-deps --target "$work/uv-wheel" "uv==$UV_VERSION"
  mkdir -p "$work/uv"
  cp "$work/uv-wheel/bin/uv" "$work/uv/uv"
  chmod 0755 "$work/uv/uv"
  tar -C "$work/uv" --owner=0 --group=0 -cf "$work/uv.tar" uv
  import_tarball "$work/uv.tar" "$UV_IMAGE"
fi

if current "$BUILDER_IMAGE"; then
  log "reusing $BUILDER_IMAGE"
else
  log "making $BUILDER_IMAGE with mmdebstrap ($SUITE, essential + python3.13, binutils)"
  mapfile -d '' options < <(hooks customize-hook)
  mmdebstrap --quiet --variant=essential \
    --include=python3.13-minimal,libpython3.13-stdlib,ca-certificates,binutils \
    "${options[@]}" "$SUITE" "$work/builder.tar"
  import_tarball "$work/builder.tar" "$BUILDER_IMAGE" --change "$PATH_ENV" \
    --change 'CMD ["/bin/bash"]'
fi

if current "$RUNTIME_IMAGE"; then
  log "reusing $RUNTIME_IMAGE"
else
  log "making $RUNTIME_IMAGE with mmdebstrap ($SUITE, python3.13 only, no shell)"
  mapfile -d '' options < <(hooks extract-hook \
    "printf 'root:x:0:0:root:/root:/sbin/nologin\\nnonroot:x:$RUNTIME_UID:$RUNTIME_UID:nonroot:/home/nonroot:/sbin/nologin\\n' > \"\$1/etc/passwd\"" \
    "printf 'root:x:0:\\nnonroot:x:$RUNTIME_UID:\\n' > \"\$1/etc/group\"" \
    "mkdir -p \"\$1/home/nonroot\" && chown $RUNTIME_UID:$RUNTIME_UID \"\$1/home/nonroot\"" \
    'mkdir -p "$1/etc/ssl/certs" && cat "$1"/usr/share/ca-certificates/mozilla/*.crt > "$1/etc/ssl/certs/ca-certificates.crt"' \
    'rm -f "$1"/usr/bin/openssl "$1"/usr/bin/c_rehash "$1"/usr/bin/debconf* "$1"/usr/sbin/dpkg-* "$1"/usr/sbin/update-ca-certificates' \
    'rm -rf "$1"/usr/share/perl5 "$1"/usr/share/debconf "$1"/usr/lib/x86_64-linux-gnu/gconv' \
    'rm -rf "$1"/usr/lib/python3.13/test "$1"/usr/lib/python3.13/idlelib "$1"/usr/lib/python3.13/tkinter "$1"/usr/lib/python3.13/turtledemo "$1"/usr/lib/python3.13/ensurepip "$1"/usr/lib/python3.13/pydoc_data' \
    'chroot "$1" /usr/bin/python3.13 -m compileall -q /usr/lib/python3.13')
  mmdebstrap --quiet --variant=extract \
    --include=python3.13-minimal,libpython3.13-stdlib,ca-certificates \
    "${options[@]}" "$SUITE" "$work/runtime.tar"
  import_tarball "$work/runtime.tar" "$RUNTIME_IMAGE" --change "$PATH_ENV" \
    --change "USER $RUNTIME_UID:$RUNTIME_UID" --change 'CMD ["python3"]'
fi

printf 'UV_IMAGE=%s\nBUILDER_IMAGE=%s\nRUNTIME_IMAGE=%s\n' "$UV_IMAGE" "$BUILDER_IMAGE" "$RUNTIME_IMAGE"
