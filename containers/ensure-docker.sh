#!/usr/bin/env bash
# Makes a Debian machine ready to build and run this project's containers,
# doing only what is missing:
#   1. the Docker engine from Debian's docker.io package;
#   2. the Compose v2 and buildx CLI plugins, compiled from their Go modules
#      (Debian 12 packages only Compose v1, and no buildx) into
#      ~/.docker/cli-plugins; pinned versions, a few minutes the first time;
#   3. dockerd started in the background, logging to DOCKERD_LOG
#      (default /var/log/dockerd.log), and waited for until `docker info`
#      answers (up to 60 s).
# Needs root, Debian's package mirror and the Go module proxy; no container
# registry. Used by .ci/run; safe to run again.
#
#   bash containers/ensure-docker.sh
set -euo pipefail

# compose v2.40.3 builds against buildx v0.29.1, so the second plugin
# reuses most of the first one's module downloads.
COMPOSE_VERSION=v2.40.3
BUILDX_VERSION=v0.29.1
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
PLUGINS=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

die() { echo "ensure-docker: ERROR: $*" >&2; exit 1; }
note() { echo "ensure-docker: $*"; }

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "run as root to install docker.io"
  note "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# build_plugin NAME MODULE VERSION PACKAGE LDFLAGS: compile a CLI plugin
# from its module as released. (`go install` refuses these modules: their
# go.mod files carry exclude directives.)
build_plugin() {
  local name=$1 module=$2 version=$3 pkg=$4 ldflags=$5 dir start=$SECONDS
  command -v go >/dev/null || die "go is needed to build the docker-$name plugin"
  note "building docker-$name $version from the Go module proxy"
  dir=$(cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || die "go mod download $module@$version gave no source folder"
  mkdir -p "$PLUGINS"
  (cd "$dir" && GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$PLUGINS/docker-$name.partial" "$pkg")
  mv "$PLUGINS/docker-$name.partial" "$PLUGINS/docker-$name"
  note "docker-$name built in $((SECONDS - start)) s"
}

if ! docker compose version 2>/dev/null | grep -q ' v2\.'; then
  build_plugin compose github.com/docker/compose/v2 "$COMPOSE_VERSION" ./cmd \
    "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION"
fi
if ! docker buildx version >/dev/null 2>&1; then
  build_plugin buildx github.com/docker/buildx "$BUILDX_VERSION" ./cmd/buildx \
    "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION"
fi

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "the Docker engine is not running, and starting it needs root"
  note "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  dockerd_pid=$!
  deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
      tail -n 20 "$DOCKERD_LOG" >&2
      die "dockerd exited; see $DOCKERD_LOG"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$DOCKERD_LOG" >&2
      die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
    fi
    sleep 0.2
  done
fi

note "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version), $(docker buildx version | cut -d' ' -f1-2)"
