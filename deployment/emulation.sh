#!/usr/bin/env bash
# ARM emulation for building and running linux/arm64 images on an amd64 machine: QEMU 10's
# user-mode emulator from Debian's bookworm-backports (static binaries; bookworm's own QEMU 7.2
# crashes on kernels newer than 6.8, docker/buildx#3170), unpacked into a private prefix
# (deployment/debian-fetch.sh, no system package installed), and registered with the kernel's
# binfmt_misc for aarch64 executables with the fix-binary flag (F): the kernel opens the
# emulator once, at registration, so containers and chroots that do not hold it run arm64
# programs too.
#
# Usage: deployment/emulation.sh start    mounts binfmt_misc if it is not, registers aarch64 if
#                                         it is not (an existing registration is used as it is)
#        deployment/emulation.sh stop     undoes only what start did: unregisters, unmounts
#        deployment/emulation.sh status   says whether arm64 programs run here, and through what
# Env:   ENGINES_CACHE  where the package is fetched and unpacked
#                       (default ~/.cache/modern-ml-microservices/engines)
# Files: /tmp/modern-ml-microservices-emulation.done lists what start did (registered, mounted)
set -euo pipefail
cd "$(dirname "$0")/.."

QEMU_PACKAGE="bookworm-backports qemu-user 1:10.0.2+ds-2+deb13u1~bpo12+1"
CACHE="${ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modern-ml-microservices/engines}"
ROOT="$CACHE/qemu/root"
BINFMT=/proc/sys/fs/binfmt_misc
ENTRY="$BINFMT/qemu-aarch64"
DONE=/tmp/modern-ml-microservices-emulation.done
# The ELF header of an aarch64 executable, and its mask (QEMU's own qemu-aarch64.conf).
MAGIC='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
MASK='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

log() { printf '[emulation] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

interpreter() { sed -n 's/^interpreter //p' "$ENTRY" 2>/dev/null; }

start() {
  if [[ -e "$ENTRY" ]] && grep -q '^enabled' "$ENTRY"; then
    log "aarch64 is registered already (interpreter $(interpreter), flags $(sed -n 's/^flags: //p' "$ENTRY")); using it as it is"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "registering an emulator needs root: run this as root"
  deployment/debian-fetch.sh "$ROOT" "$QEMU_PACKAGE"
  [[ -x "$ROOT/usr/bin/qemu-aarch64" ]] || die "$ROOT holds no usr/bin/qemu-aarch64"
  : >>"$DONE"
  if [[ ! -e "$BINFMT/register" ]]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc on $BINFMT"
    echo mounted >>"$DONE"
    log "mounted binfmt_misc on $BINFMT"
  fi
  printf ':qemu-aarch64:M::%s:%s:%s:F' "$MAGIC" "$MASK" "$ROOT/usr/bin/qemu-aarch64" \
    >"$BINFMT/register" || die "the kernel refused the aarch64 registration"
  echo registered >>"$DONE"
  log "registered aarch64 with $ROOT/usr/bin/qemu-aarch64 (QEMU ${QEMU_PACKAGE##* }, fix-binary); undo: deployment/emulation.sh stop"
}

stop() {
  if [[ ! -s "$DONE" ]]; then
    log "emulation.sh registered nothing here; nothing to undo"
    return 0
  fi
  if grep -q '^registered$' "$DONE" && [[ -e "$ENTRY" ]]; then
    echo -1 >"$ENTRY"
    log "unregistered aarch64"
  fi
  if grep -q '^mounted$' "$DONE"; then
    umount "$BINFMT" && log "unmounted binfmt_misc"
  fi
  rm -f "$DONE"
}

status() {
  if [[ -e "$ENTRY" ]] && grep -q '^enabled' "$ENTRY"; then
    log "arm64 programs run here through $(interpreter) ($(sed -n 's/^flags: //p' "$ENTRY"))"
  else
    log "no aarch64 emulator is registered: deployment/emulation.sh start"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) sed -n '/^# Usage:/,/^# Env:/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
