#!/usr/bin/env bash
# Publishes the image the gate verified: pushes it to the local registry, records its digest,
# and with cosign (offline: no transparency log, plain HTTP to the registry on loopback) signs
# that digest and attaches two attestations to it: the CycloneDX SBOM the suite checked against
# the image (--type cyclonedx) and an SLSA v1 provenance statement made from the build's own
# record (--type slsaprovenance1, deployment/provenance.py). The gate then verifies all three
# from the registry (pytest --pyargs image_checks.release). Safe to run twice: the digest is
# the same for the same image, its attestations are replaced, its signatures added.
#
# The key: a key pair made for this run in a private temporary folder, removed at exit, unless
# COSIGN_KEY names a cosign private key (COSIGN_PASSWORD its password). The private key never
# enters REPORT_DIR, the image or a log; the public key is written to REPORT_DIR/cosign.pub.
#
# Usage: deployment/release.sh IMAGE
# Env:   REPORT_DIR          where the SBOM and the build record are read and release.json,
#                            cosign.pub and provenance.json written (default: reports)
#        RELEASE_REGISTRY    host:port of the registry (default 127.0.0.1:5055; registry.sh)
#        RELEASE_REPOSITORY  the repository in it (default modern-ml-microservices-app)
#        COSIGN_KEY          a cosign private key to sign with (default: one made per run)
# Writes: REPORT_DIR/release.json {reference, digest, image_id, public_key, sbom, provenance}
# The tag recorded is the image's version label and architecture (0.1.0-amd64).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[release] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

(($# == 1)) || die "usage: deployment/release.sh IMAGE"
IMAGE="$1"
REPORT_DIR="${REPORT_DIR:-reports}"
REGISTRY="${RELEASE_REGISTRY:-127.0.0.1:5055}"
REPOSITORY="${RELEASE_REPOSITORY:-modern-ml-microservices-app}"
DOCKER="$(deployment/docker-client.sh)" || exit 1
command -v cosign >/dev/null || die "cosign is missing: run deployment/prerequisites.sh"
for file in sbom.cdx.json build.json; do
  [[ -s "$REPORT_DIR/$file" ]] || die "$REPORT_DIR/$file is missing: the gate's build and tests write it"
done
curl -fsS --max-time 5 "http://$REGISTRY/v2/" >/dev/null \
  || die "no registry answers at $REGISTRY: start one with deployment/registry.sh start"
# cosign's options for an offline release: no transparency log, plain HTTP on loopback.
offline=(--tlog-upload=false --allow-http-registry --yes)

id="$("$DOCKER" image inspect -f '{{.Id}}' "$IMAGE")" || die "no image $IMAGE in the engine"
built="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["image_id"])' "$REPORT_DIR/build.json")"
[[ "$built" == "$id" ]] || die "$IMAGE is $id, but the build record ($REPORT_DIR/build.json) is of $built: release only the image this gate built"
version="$("$DOCKER" image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")"
# Each platform's image is released under a tag of its own (0.1.0-amd64, 0.1.0-arm64); the
# machine's own platform also as the version (0.1.0), which a multi-platform index
# (deployment/release-index.sh) later takes over.
arch="$("$DOCKER" image inspect -f '{{.Architecture}}' "$IMAGE")"
target="$REGISTRY/$REPOSITORY:${version:-latest}-$arch"
tags=("$target")
[[ "$arch" != "$(dpkg --print-architecture 2>/dev/null || echo amd64)" ]] \
  || tags+=("$REGISTRY/$REPOSITORY:${version:-latest}")

for tag in "${tags[@]}"; do
  log "pushing $IMAGE ($id) as $tag"
  "$DOCKER" tag "$id" "$tag"
  "$DOCKER" push -q "$tag" >/dev/null 2>&1 || "$DOCKER" push "$tag" >&2 || die "cannot push $tag"
done
digest="$("$DOCKER" image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$id" \
  | sed -n "s|^$REGISTRY/$REPOSITORY@||p" | head -n 1)"
[[ "$digest" == sha256:* ]] || die "the engine recorded no digest of $REGISTRY/$REPOSITORY for $id"
ref="$REGISTRY/$REPOSITORY@$digest"

keys="$(mktemp -d)"
trap 'rm -rf "$keys"' EXIT
if [[ -n "${COSIGN_KEY:-}" ]]; then
  [[ -r "$COSIGN_KEY" ]] || die "COSIGN_KEY=$COSIGN_KEY cannot be read"
  key="$COSIGN_KEY"
  cosign public-key --key "$key" --outfile "$REPORT_DIR/cosign.pub" 2>/dev/null \
    || die "cosign cannot read the public key of COSIGN_KEY (wrong COSIGN_PASSWORD?)"
  key_source="COSIGN_KEY ($COSIGN_KEY)"
else
  (cd "$keys" && COSIGN_PASSWORD="" cosign generate-key-pair >/dev/null 2>&1) \
    || die "cosign could not make a key pair"
  key="$keys/cosign.key"
  export COSIGN_PASSWORD=""
  cp "$keys/cosign.pub" "$REPORT_DIR/cosign.pub"
  key_source="a key pair made for this run"
fi

log "signing $ref (key: $key_source; public key: $REPORT_DIR/cosign.pub)"
cosign sign --key "$key" "${offline[@]}" "$ref" >/dev/null 2>&1 \
  || { cosign sign --key "$key" "${offline[@]}" "$ref" 2>&1 | grep -v -i 'private' >&2; die "cosign sign failed"; }
log "attaching the SBOM ($REPORT_DIR/sbom.cdx.json) as a CycloneDX attestation"
cosign attest --key "$key" --type cyclonedx --predicate "$REPORT_DIR/sbom.cdx.json" --replace \
  "${offline[@]}" "$ref" >/dev/null 2>&1 || die "cosign attest (cyclonedx) failed"
uv run --frozen python deployment/provenance.py --build-record "$REPORT_DIR/build.json" \
  --out "$REPORT_DIR/provenance.json"
log "attaching the SLSA v1 provenance ($REPORT_DIR/provenance.json)"
cosign attest --key "$key" --type slsaprovenance1 --predicate "$REPORT_DIR/provenance.json" \
  --replace "${offline[@]}" "$ref" >/dev/null 2>&1 || die "cosign attest (slsaprovenance1) failed"

python3 - "$REPORT_DIR/release.json" "$target" "$digest" "$id" "$key_source" <<'PY'
import json, sys
out, reference, digest, image_id, key = sys.argv[1:]
release = {
    "reference": reference, "digest": digest, "image_id": image_id, "key": key,
    "public_key": "cosign.pub", "sbom": "sbom.cdx.json", "provenance": "provenance.json",
}
with open(out, "w", encoding="utf-8") as file:
    file.write(json.dumps(release, indent=2) + "\n")
PY
log "released $target as $digest; verify: cosign verify --key $REPORT_DIR/cosign.pub --insecure-ignore-tlog=true --allow-http-registry $ref"
