#!/usr/bin/env bash
# Prints the path of a docker client that builds with BuildKit, or fails with a clear message.
# Such a client has the buildx plugin, or is older than 23 (its built-in builder is BuildKit
# when DOCKER_BUILDKIT=1; newer clients need buildx for that). $DOCKER is tried first.
#
# Usage: deployment/docker-client.sh      e.g. DOCKER="$(deployment/docker-client.sh)"
set -euo pipefail

for candidate in ${DOCKER:-} docker /usr/bin/docker; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" buildx version >/dev/null 2>&1; then
    command -v "$candidate"
    exit 0
  fi
  major="$("$candidate" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)"
  if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then
    command -v "$candidate"
    exit 0
  fi
done
echo "no docker client with BuildKit found: install the buildx plugin, or Debian's docker.io" >&2
exit 1
