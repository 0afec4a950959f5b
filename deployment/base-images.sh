#!/usr/bin/env bash
# Makes the local base images the Dockerfile needs when no registry can be reached, for one
# base flavour (see "Base images" in README.md):
#   stand-in  what users pull, made locally: a FROM-scratch uv image, a stand-in of
#             debian:trixie-slim (mmdebstrap minbase, no Python: the Dockerfile installs it with
#             apt, as on the public base) and a stand-in of
#             gcr.io/distroless/python3-debian13:nonroot (the packages of its public definition,
#             GoogleContainerTools/distroless base/, cc/, python3/, unpacked without maintainer
#             scripts into the same layers: static, base, cc, python, aliases; its ENTRYPOINT,
#             users and ENV; no stdlib bytecode)
#   slim      this project's own smaller bases: a builder with Python 3.13 and binutils, and a
#             runtime with Python 3.13 only, no shell, stdlib trimmed and compiled to bytecode
# Built from Debian packages with mmdebstrap (the extract variant runs no maintainer scripts,
# so the hooks below do what they would: links, CA bundle, users). For a stable suite mmdebstrap
# adds SUITE-updates and SUITE-security to the release itself (its manual: "mirrors for updates
# and security are automatically added"), so a base carries every update published when it is
# made; the gate's patch-currency step says when one has been published since.
# Idempotent: an image whose label records the same inputs (this script and the pinned uv
# version) is reused as it is; BASES_REFRESH=1 makes them again (with today's updates).
#
# Usage: deployment/base-images.sh [stand-in|slim]   (default stand-in)
#        prints UV_IMAGE=..., BUILDER_IMAGE=..., RUNTIME_IMAGE=... for docker build --build-arg
# Env:   DOCKER (a BuildKit-capable docker client, default docker), DEBIAN_SUITE (default trixie),
#        BASES_REFRESH=1 (make every base again, even when its inputs have not changed),
#        PLATFORM (linux/amd64 or linux/arm64; default this machine's): the bases of another
#        platform are made from that architecture's packages, their hooks run under emulation
#        (deployment/emulation.sh), and their tags end in -ARCH (nonroot-arm64)
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER="${DOCKER:-docker}"
SUITE="${DEBIAN_SUITE:-trixie}"
FLAVOUR="${1:-stand-in}"
NATIVE="linux/$(dpkg --print-architecture)"
PLATFORM="${PLATFORM:-$NATIVE}"
PLATFORM_LABEL="org.modern-ml-microservices.platform"
REPO="modern-ml-microservices"
RUNTIME_UID=65532
NOBODY_UID=65534
LABEL="org.modern-ml-microservices.base-inputs"

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$FLAVOUR" in
  stand-in | slim) ;;
  *) die "unknown base flavour '$FLAVOUR': use stand-in or slim" ;;
esac
case "$PLATFORM" in
  linux/amd64) ARCH=amd64 TRIPLET=x86_64-linux-gnu UV_PLATFORM=x86_64-unknown-linux-gnu ;;
  linux/arm64) ARCH=arm64 TRIPLET=aarch64-linux-gnu UV_PLATFORM=aarch64-unknown-linux-gnu ;;
  *) die "PLATFORM=$PLATFORM is not one of linux/amd64, linux/arm64" ;;
esac
TAG_SUFFIX=""
if [[ "$PLATFORM" != "$NATIVE" ]]; then
  TAG_SUFFIX="-$ARCH"
  grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-${TRIPLET%%-*}" \
    || die "$PLATFORM programs do not run here: register an emulator (deployment/emulation.sh start)"
fi
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install -y mmdebstrap"
command -v uv >/dev/null || die "uv is missing: pip install uv"
"$DOCKER" info >/dev/null 2>&1 || die "no Docker engine answers to '$DOCKER info'"

# The uv version is pinned once, in the Dockerfile's default UV_IMAGE.
UV_VERSION="$(sed -n 's|^ARG UV_IMAGE=.*uv:\([0-9.]*\).*|\1|p' Dockerfile)"
[[ -n "$UV_VERSION" ]] || die "cannot read the pinned uv version from Dockerfile (ARG UV_IMAGE=...uv:X.Y.Z)"
INPUTS="$( (cat "$0"; echo "$UV_VERSION $SUITE $PLATFORM") | sha256sum | cut -c1-16)"

UV_IMAGE="$REPO/uv:$UV_VERSION$TAG_SUFFIX"
if [[ "$FLAVOUR" == slim ]]; then
  BUILDER_IMAGE="$REPO/python-builder:3.13-$SUITE$TAG_SUFFIX"
  RUNTIME_IMAGE="$REPO/python-runtime:3.13-$SUITE$TAG_SUFFIX"
else
  BUILDER_IMAGE="$REPO/stand-in-debian:$SUITE-slim$TAG_SUFFIX"
  RUNTIME_IMAGE="$REPO/stand-in-distroless-python3-debian13:nonroot$TAG_SUFFIX"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

current() { # current IMAGE: true when IMAGE exists and was made from these inputs
  [[ "$("$DOCKER" image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null)" == "$INPUTS" ]]
}

replaced() { # replaced IMAGE OLD_ID: drop the image a new build of IMAGE replaced, report it
  local image="$1" old="$2"
  if [[ -n "$old" && "$old" != "$("$DOCKER" image inspect -f '{{.Id}}' "$image")" ]]; then
    "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
  fi
  log "made $image ($("$DOCKER" image inspect -f '{{.Size}}' "$image" | numfmt --to=si)B, $("$DOCKER" image inspect -f '{{len .RootFS.Layers}}' "$image") layers)"
}

import_tarball() { # import_tarball TARBALL IMAGE [--change ...]: one-layer image from a tarball
  local tarball="$1" image="$2" old
  shift 2
  old="$("$DOCKER" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
  "$DOCKER" import --platform "$PLATFORM" --change "LABEL $LABEL=$INPUTS" \
    --change "LABEL $PLATFORM_LABEL=$PLATFORM" "$@" "$tarball" "$image" >/dev/null
  replaced "$image" "$old"
}

# Shared hooks of the slim images: the usr-merge links and /usr/bin/python3 that these
# variants lack, a sticky /tmp, and no docs, manuals, locales or package lists. mmdebstrap
# skips customize hooks for the extract variant, so each image passes them under the hook
# option its variant runs.
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

make_uv() {
  log "making $UV_IMAGE from the uv $UV_VERSION wheel for $UV_PLATFORM (PyPI)"
  uv pip install --quiet --no-deps --python-platform "$UV_PLATFORM" --target "$work/uv-wheel" \
    "uv==$UV_VERSION"
  mkdir -p "$work/uv"
  cp "$work/uv-wheel/bin/uv" "$work/uv/uv"
  chmod 0755 "$work/uv/uv"
  tar -C "$work/uv" --owner=0 --group=0 -cf "$work/uv.tar" uv
  import_tarball "$work/uv.tar" "$UV_IMAGE"
}

make_slim_builder() {
  log "making $BUILDER_IMAGE with mmdebstrap ($SUITE, essential + python3.13, binutils)"
  mapfile -d '' options < <(hooks customize-hook)
  mmdebstrap --quiet --arch="$ARCH" --variant=essential \
    --include=python3.13-minimal,libpython3.13-stdlib,ca-certificates,binutils \
    "${options[@]}" "$SUITE" "$work/builder.tar"
  import_tarball "$work/builder.tar" "$BUILDER_IMAGE" --change "$PATH_ENV" \
    --change 'CMD ["/bin/bash"]'
}

make_slim_runtime() {
  log "making $RUNTIME_IMAGE with mmdebstrap ($SUITE, python3.13 only, no shell)"
  mapfile -d '' options < <(hooks extract-hook \
    "printf 'root:x:0:0:root:/root:/sbin/nologin\\nnonroot:x:$RUNTIME_UID:$RUNTIME_UID:nonroot:/home/nonroot:/sbin/nologin\\n' > \"\$1/etc/passwd\"" \
    "printf 'root:x:0:\\nnonroot:x:$RUNTIME_UID:\\n' > \"\$1/etc/group\"" \
    "mkdir -p \"\$1/home/nonroot\" && chown $RUNTIME_UID:$RUNTIME_UID \"\$1/home/nonroot\"" \
    'mkdir -p "$1/etc/ssl/certs" && cat "$1"/usr/share/ca-certificates/mozilla/*.crt > "$1/etc/ssl/certs/ca-certificates.crt"' \
    'rm -f "$1"/usr/bin/openssl "$1"/usr/bin/c_rehash "$1"/usr/bin/debconf* "$1"/usr/sbin/dpkg-* "$1"/usr/sbin/update-ca-certificates' \
    "rm -rf \"\$1\"/usr/share/perl5 \"\$1\"/usr/share/debconf \"\$1\"/usr/lib/$TRIPLET/gconv" \
    'rm -rf "$1"/usr/lib/python3.13/test "$1"/usr/lib/python3.13/idlelib "$1"/usr/lib/python3.13/tkinter "$1"/usr/lib/python3.13/turtledemo "$1"/usr/lib/python3.13/ensurepip "$1"/usr/lib/python3.13/pydoc_data' \
    'chroot "$1" /usr/bin/python3.13 -m compileall -q /usr/lib/python3.13' \
    'mkdir -p "$1/var/lib/dpkg/status.d" && for deb in "$1"/var/cache/apt/archives/*.deb; do dpkg-deb -f "$deb" >"$1/var/lib/dpkg/status.d/$(dpkg-deb -f "$deb" Package)"; done')
  mmdebstrap --quiet --arch="$ARCH" --variant=extract \
    --include=python3.13-minimal,libpython3.13-stdlib,ca-certificates \
    "${options[@]}" "$SUITE" "$work/runtime.tar"
  import_tarball "$work/runtime.tar" "$RUNTIME_IMAGE" --change "$PATH_ENV" \
    --change "USER $RUNTIME_UID:$RUNTIME_UID" --change 'CMD ["python3"]'
}

make_stand_in_builder() {
  # debian:trixie-slim is minbase without docs, manuals and package lists; no Python.
  log "making $BUILDER_IMAGE with mmdebstrap ($SUITE minbase, as debian:$SUITE-slim)"
  mmdebstrap --quiet --arch="$ARCH" --variant=minbase \
    --customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/usr/share/locale/* "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "$SUITE" "$work/debian-slim.tar"
  import_tarball "$work/debian-slim.tar" "$BUILDER_IMAGE" --change "$PATH_ENV" \
    --change 'CMD ["bash"]'
}

# The packages of gcr.io/distroless/python3-debian13, layer by layer, as its public definition
# assembles them (GoogleContainerTools/distroless: base/, cc/, python3/config.bzl, python.bzl).
DISTROLESS_STATIC="base-files netbase tzdata ca-certificates media-types"
DISTROLESS_BASE="libc6 libssl3t64 libzstd1 zlib1g"
DISTROLESS_CC="libgomp1 libstdc++6 libgcc-s1 gcc-14-base"
DISTROLESS_PYTHON="libbz2-1.0 libdb5.3t64 libexpat1 liblzma5 libsqlite3-0 libuuid1 libncursesw6
  libtinfo6 libcom-err2 libcrypt1 libc-bin libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3
  libkrb5support0 libnsl2 libreadline8t64 libtirpc3t64 libffi8 libpython3.13-minimal
  libpython3.13-stdlib python3.13-minimal python3.13-venv"

unpack_layer() { # unpack_layer NAME PACKAGE...: each package's files into $work/layers/NAME
  local name="$1" package deb
  shift
  mkdir -p "$work/layers/$name/var/lib/dpkg/status.d"
  for package in "$@"; do
    deb="$(compgen -G "$work/debs/archives/${package}_*.deb" | head -n 1)" \
      || die "no .deb downloaded for $package"
    dpkg-deb -x "$deb" "$work/layers/$name"
    # What distroless records for scanners: one control file per package.
    dpkg-deb -f "$deb" >"$work/layers/$name/var/lib/dpkg/status.d/$package"
  done
}

make_stand_in_runtime() {
  log "making $RUNTIME_IMAGE: the distroless python3-debian13 packages ($SUITE), in its layers"
  local all
  all="$(echo $DISTROLESS_STATIC $DISTROLESS_BASE $DISTROLESS_CC $DISTROLESS_PYTHON | tr ' ' ,)"
  mkdir -p "$work/debs"
  mmdebstrap --quiet --arch="$ARCH" --variant=extract --include="$all" --skip=download/empty \
    --extract-hook="copy-out /var/cache/apt/archives $work/debs" "$SUITE" /dev/null
  # shellcheck disable=SC2086 # the package lists are word lists
  {
    unpack_layer static $DISTROLESS_STATIC
    unpack_layer base $DISTROLESS_BASE
    unpack_layer cc $DISTROLESS_CC
    unpack_layer python $DISTROLESS_PYTHON
  }
  local static="$work/layers/static"
  # distroless' static part: users root, nobody and nonroot, their homes, a sticky /tmp, the
  # name service switch, and the CA bundle update-ca-certificates would have written.
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:%s:%s:nobody:/nonexistent:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/sbin/nologin\n' \
    "$NOBODY_UID" "$NOBODY_UID" "$RUNTIME_UID" "$RUNTIME_UID" >"$static/etc/passwd"
  printf 'root:x:0:\nnobody:x:%s:\ntty:x:5:\nstaff:x:50:\nnonroot:x:%s:\n' \
    "$NOBODY_UID" "$RUNTIME_UID" >"$static/etc/group"
  # The name service switch distroless ships (Debian writes it in a maintainer script): without
  # it glibc tries DNS before /etc/hosts.
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n' \
    >"$static/etc/nsswitch.conf"
  mkdir -p "$static/root" "$static/home/nonroot" "$static/tmp" "$static/etc/ssl/certs"
  chmod 0700 "$static/root"
  chown "$RUNTIME_UID:$RUNTIME_UID" "$static/home/nonroot"
  chmod 1777 "$static/tmp"
  cat "$static"/usr/share/ca-certificates/mozilla/*.crt >"$static/etc/ssl/certs/ca-certificates.crt"
  # aliases: python and python3 point at python3.13; the ld.so cache of the whole tree.
  mkdir -p "$work/layers/aliases/usr/bin" "$work/merged"
  ln -s python3.13 "$work/layers/aliases/usr/bin/python"
  ln -s python3.13 "$work/layers/aliases/usr/bin/python3"
  local layer
  for layer in static base cc python aliases; do cp -a "$work/layers/$layer/." "$work/merged/"; done
  mkdir -p "$work/layers/aliases/etc"
  chroot "$work/merged" /usr/sbin/ldconfig
  cp "$work/merged/etc/ld.so.cache" "$work/layers/aliases/etc/ld.so.cache"
  mkdir -p "$work/context"
  for layer in static base cc python aliases; do
    tar -C "$work/layers/$layer" --numeric-owner -cf "$work/context/$layer.tar" .
  done
  cat >"$work/context/Dockerfile" <<DOCKERFILE
FROM scratch
ADD static.tar /
ADD base.tar /
ADD cc.tar /
ADD python.tar /
ADD aliases.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    LANG=C.UTF-8
LABEL $LABEL=$INPUTS $PLATFORM_LABEL=$PLATFORM
USER $RUNTIME_UID
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/bin/python3.13"]
DOCKERFILE
  local old
  old="$("$DOCKER" image inspect -f '{{.Id}}' "$RUNTIME_IMAGE" 2>/dev/null || true)"
  DOCKER_BUILDKIT=1 "$DOCKER" build --quiet --platform "$PLATFORM" -t "$RUNTIME_IMAGE" \
    "$work/context" >/dev/null
  replaced "$RUNTIME_IMAGE" "$old"
}

make_or_reuse() { # make_or_reuse IMAGE MAKER
  if [[ "${BASES_REFRESH:-}" != 1 ]] && current "$1"; then log "reusing $1"; else "$2"; fi
}

make_or_reuse "$UV_IMAGE" make_uv
if [[ "$FLAVOUR" == slim ]]; then
  make_or_reuse "$BUILDER_IMAGE" make_slim_builder
  make_or_reuse "$RUNTIME_IMAGE" make_slim_runtime
else
  make_or_reuse "$BUILDER_IMAGE" make_stand_in_builder
  make_or_reuse "$RUNTIME_IMAGE" make_stand_in_runtime
fi

printf 'UV_IMAGE=%s\nBUILDER_IMAGE=%s\nRUNTIME_IMAGE=%s\n' "$UV_IMAGE" "$BUILDER_IMAGE" "$RUNTIME_IMAGE"
