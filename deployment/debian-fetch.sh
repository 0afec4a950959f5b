#!/usr/bin/env bash
# Fetches pinned packages from Debian's archive and unpacks them into a private prefix, without
# installing or replacing any system package: `apt-get download` against a sources list of its
# own, then `dpkg -x`. For what this machine's release does not ship (Docker 28, cosign).
# Does nothing when ROOT already holds exactly these packages (a stamp file says which).
#
# Usage: deployment/debian-fetch.sh ROOT "SUITE NAME VERSION" ...
#        e.g. deployment/debian-fetch.sh ~/.cache/x/root "trixie cosign 2.5.0-2+b5"
# Env:   ENGINES_CACHE  where the lists and .deb files are kept
#                       (default ~/.cache/modern-ml-microservices/engines)
set -euo pipefail

log() { printf '[debian-fetch] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

(($# >= 2)) || die "usage: deployment/debian-fetch.sh ROOT \"SUITE NAME VERSION\" ..."
ROOT="$1"
shift
CACHE="${ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modern-ml-microservices/engines}"
stamp="$ROOT/.packages"
wanted="$(printf '%s\n' "$@")"
[[ "$(cat "$stamp" 2>/dev/null)" == "$wanted" ]] && exit 0

command -v apt-get >/dev/null && command -v dpkg >/dev/null \
  || die "apt-get and dpkg are needed to fetch Debian's packages"
[[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] \
  || die "Debian's archive key is missing: apt-get install -y debian-archive-keyring"
arch="$(dpkg --print-architecture)"
suites="$(printf '%s\n' "$@" | cut -d' ' -f1 | sort -u)"
apt_dir="$CACHE/apt-$(tr '\n' '-' <<<"$suites" | sed 's/-$//')"
debs="$CACHE/debs"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$debs"
for suite in $suites; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
done >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
  -o APT::Sandbox::User=root)
log "fetching from Debian's archive ($(echo $suites)): $(echo $(cut -d' ' -f2,3 <<<"$wanted"))"
apt-get "${apt_opts[@]}" update -qq
rm -rf "$ROOT"
mkdir -p "$ROOT"
for entry in "$@"; do
  read -r suite name version <<<"$entry"
  # apt-get download writes an epoch as %3a: 1:10.0 -> NAME_1%3a10.0_ARCH.deb
  deb="$debs/${name}_${version/:/%3a}_$arch.deb"
  [[ -s "$deb" ]] || deb="$debs/${name}_${version/:/%3a}_all.deb"
  [[ -s "$deb" ]] || (cd "$debs" && apt-get "${apt_opts[@]}" download -qq "$name=$version") \
    || die "cannot fetch $name $version from Debian $suite"
  deb="$(compgen -G "$debs/${name}_${version/:/%3a}_*.deb" | head -n 1)" \
    || die "apt-get downloaded no .deb of $name $version"
  dpkg -x "$deb" "$ROOT"
done
printf '%s\n' "$wanted" >"$stamp"
log "unpacked into $ROOT"
