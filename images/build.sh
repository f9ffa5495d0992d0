#!/usr/bin/env bash
# Builds every image the lab override (inventory/lab.yml) points at, from the local
# talon-lab-base:bookworm image (no registry): real Redis, Caddy and LiteLLM from Debian and
# PyPI, stand-ins for the OpenClaw gateway, Smokescreen and the docker socket proxy, and a
# stand-in for a host-side Ollama (ollama-standin: not part of the stack, the tests run it).
# Usage: images/build.sh [NAME...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")"

export DOCKER_BUILDKIT=0

if ! docker image inspect talon-lab-base:bookworm >/dev/null 2>&1; then
  echo "talon-lab-base:bookworm is missing: run 'talon lab image' first" >&2
  exit 1
fi

# folder -> tag (must match inventory/lab.yml)
declare -A tags=(
  [openclaw-standin]=talon-stack/openclaw-standin:1
  [litellm]=talon-stack/litellm:1.80.5
  [redis]=talon-stack/redis:7.0
  [smokescreen-standin]=talon-stack/smokescreen-standin:1
  [docker-proxy-standin]=talon-stack/docker-proxy-standin:1
  [caddy]=talon-stack/caddy:2.6
  [backup]=talon-stack/backup:1
  [ollama-standin]=talon-stack/ollama-standin:1
)

names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
  names=(backup redis caddy openclaw-standin smokescreen-standin docker-proxy-standin ollama-standin litellm)
fi

for name in "${names[@]}"; do
  tag="${tags[$name]:-}"
  if [ -z "$tag" ]; then
    echo "unknown image folder: $name (known: ${!tags[*]})" >&2
    exit 2
  fi
  echo "== building $tag from images/$name"
  # Build from a copy of the folder plus the CA bundle this machine trusts (pip needs it when
  # TLS to PyPI is inspected); nothing is written into the repository.
  ctx="$(mktemp -d)"
  cp -R "$name/." "$ctx/"
  cp "${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/build-ca.crt"
  if ! docker build -q -t "$tag" "$ctx"; then
    rm -rf "$ctx"
    echo "building $tag failed" >&2
    exit 1
  fi
  rm -rf "$ctx"
done
