#!/usr/bin/env bash
# Builds stand-ins for the public base images this project uses, on a machine
# that reaches Debian's package mirror but no container registry (an
# air-gapped CI). Nothing is pulled: every image starts from a Debian root
# filesystem made here by debootstrap, or from scratch.
#
#   bash containers/stand-ins/build-stand-ins.sh             # build what is missing
#   bash containers/stand-ins/build-stand-ins.sh --rebuild   # build every image again
#
# Images (stand-in for → tag):
#   debian:bookworm                            → coffee-standin/debian:bookworm
#   golang:1.26-bookworm                       → coffee-standin/golang:1.26-bookworm
#   gcr.io/distroless/static-debian12:nonroot  → coffee-standin/distroless-static:nonroot
#     and its linux/arm64 variant (Graviton)   → coffee-standin/distroless-static:nonroot-arm64
#   mariadb:10.11 (for mysql:8.4)              → coffee-standin/mariadb:10.11
#   haproxy:2.6                                → coffee-standin/haproxy:2.6
#   registry:3 (the ECR stand-in)              → coffee-standin/registry:3
#
# The project's Dockerfiles, compose file and tests take their base images
# from build arguments and variables whose defaults are the official images;
# CI passes these tags instead, so the files users run stay unchanged.
#
# Needs: root, a running Docker engine, debootstrap (apt-get install
# debootstrap), Go 1.26 at `go env GOROOT` (copied into the Go image), the
# host's CA certificates (the Go and runtime images trust what the host
# trusts, local CAs included). Settings (environment):
#   STANDIN_CACHE    where the debootstrap tarball is kept
#                    (default ~/.cache/coffee-standins; delete it to re-debootstrap)
#   DEBIAN_MIRROR    default http://deb.debian.org/debian
#   SECURITY_MIRROR  default http://deb.debian.org/debian-security
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rebuild=false
for arg in "$@"; do
  case $arg in
    --rebuild) rebuild=true ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-stand-ins: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

SUITE=bookworm
GO_MINOR=1.26
BASE=coffee-standin/debian:$SUITE
GOLANG=coffee-standin/golang:$GO_MINOR-$SUITE
DISTROLESS=coffee-standin/distroless-static:nonroot
DISTROLESS_ARM64=$DISTROLESS-arm64
MARIADB=coffee-standin/mariadb:10.11
HAPROXY=coffee-standin/haproxy:2.6
REGISTRY=coffee-standin/registry:3
CACHE=${STANDIN_CACHE:-$HOME/.cache/coffee-standins}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

die() { echo "build-stand-ins: ERROR: $*" >&2; exit 1; }
note() { printf '\n--> %s\n' "$*"; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }
# wanted IMAGE: true when IMAGE should be built now. On --rebuild the
# image it replaces is removed afterwards (see the EXIT trap), so reruns do
# not pile up untagged images.
replaced=()
wanted() {
  if exists "$1"; then
    if ! $rebuild; then
      echo "    $1 exists, kept (--rebuild to build it again)"
      return 1
    fi
    replaced+=("$(docker image inspect --format '{{.Id}}' "$1")")
  fi
}

# Fail early, naming what is missing, rather than half-way through.
[ "$(id -u)" = 0 ] || die "run as root: debootstrap and the image's file ownership need it"
command -v docker >/dev/null || die "no docker client: apt-get install docker.io"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (start dockerd; see .ci/run)"
command -v debootstrap >/dev/null || die "no debootstrap: apt-get install debootstrap"
[ -s /etc/ssl/certs/ca-certificates.crt ] || die "no /etc/ssl/certs/ca-certificates.crt: apt-get install ca-certificates"
command -v go >/dev/null || die "no go on PATH: the Go image copies the host's toolchain"
goroot=$(go env GOROOT)
goversion=$(go env GOVERSION)
case $goversion in
  go"$GO_MINOR" | go"$GO_MINOR".*) ;;
  *) die "host Go is $goversion, but the stand-in is tagged $GOLANG: install Go $GO_MINOR" ;;
esac
arch=$(dpkg --print-architecture)

work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  # Only images left untagged; one still in use by a container stays.
  for id in "${replaced[@]}"; do
    if [ -z "$(docker image inspect --format '{{join .RepoTags ""}}' "$id" 2>/dev/null)" ]; then
      docker rmi "$id" >/dev/null 2>&1 || true
    fi
  done
}
trap cleanup EXIT
built=()

# --- debian:bookworm -------------------------------------------------------
# debootstrap's minbase variant is what the official debian image is made
# from. The tarball is cached, so reruns skip the slow part (about a minute
# of downloads and unpacking).
tarball=$CACHE/$SUITE-minbase-$arch.tar
note "$BASE  (debootstrap --variant=minbase $SUITE)"
if [ ! -s "$tarball" ]; then
  mkdir -p "$CACHE"
  rootfs=$work/rootfs
  echo "    debootstrap into $rootfs (log: $work/debootstrap.log)"
  if ! debootstrap --variant=minbase --arch="$arch" "$SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # The container-friendly settings the official image's build
  # (debuerreotype) applies: services never start during package installs,
  # no recommends, no package lists left behind, no documentation.
  printf '#!/bin/sh\n# Services must not start while an image is being built.\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  cat >"$rootfs/etc/apt/apt.conf.d/docker" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # Docker provides these per container; the build host's must not leak in.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/*.log "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
  : >"$rootfs/etc/machine-id"
  tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$rootfs"
  echo "    cached $tarball ($(du -h "$tarball" | cut -f1))"
else
  echo "    using cached $tarball (from $(date -r "$tarball" +%F); delete it to debootstrap again)"
fi
if wanted "$BASE"; then
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase $SUITE (coffee-suppliers stand-in)" \
    "$tarball" "$BASE" >/dev/null
  built+=("$BASE")
fi

# --- golang:1.26-bookworm ---------------------------------------------------
# The host's toolchain and local CAs go in as the build context, streamed as a tar so the
# 270 MB tree is not copied on disk first.
note "$GOLANG  ($BASE + $goversion from $goroot)"
if wanted "$GOLANG"; then
  cp "$here/golang/Dockerfile" "$work/Dockerfile"
  mkdir -p "$work/local-ca"
  if [ -d /usr/local/share/ca-certificates ]; then
    find /usr/local/share/ca-certificates -name '*.crt' -exec cp '{}' "$work/local-ca/" ';'
  fi
  if ! tar -c -C "$work" Dockerfile local-ca -C "$(dirname "$goroot")" \
    --transform "s|^$(basename "$goroot")|go|" "$(basename "$goroot")" |
    docker build --build-arg BASE="$BASE" -t "$GOLANG" - >"$work/golang.log" 2>&1; then
    tail -n 40 "$work/golang.log" >&2
    die "building $GOLANG failed"
  fi
  built+=("$GOLANG")
fi

# --- gcr.io/distroless/static-debian12:nonroot -------------------------------
# What a static Go binary needs and nothing else: CA certificates, the nonroot
# user (65532) and its home, a world-writable /tmp. No shell, no package
# manager. Assembled as a tar so ownership and modes are exact. It holds no
# program, so the same files make the linux/arm64 variant without an
# emulator: the last stage of the Dockerfiles when they build for Graviton
# (their Go build runs on this machine's CPU and cross-compiles).
note "$DISTROLESS, $DISTROLESS_ARM64  (scratch + CA certificates + nonroot 65532)"
distroless_tar=
distroless_files() { # the runtime's files as a tar, made once
  [ -z "$distroless_tar" ] || return 0
  local fs=$work/distroless
  mkdir -p "$fs/etc/ssl/certs" "$fs/tmp" "$fs/home/nonroot" "$fs/root"
  cp /etc/ssl/certs/ca-certificates.crt "$fs/etc/ssl/certs/"
  cat >"$fs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$fs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\n' >"$fs/etc/nsswitch.conf"
  cat >"$fs/etc/os-release" <<'EOF'
PRETTY_NAME="Distroless-style stand-in (coffee-suppliers), Debian 12 certificates"
ID=debian
VERSION_ID="12"
EOF
  chmod 644 "$fs"/etc/passwd "$fs"/etc/group "$fs"/etc/nsswitch.conf "$fs"/etc/os-release "$fs"/etc/ssl/certs/ca-certificates.crt
  chmod 1777 "$fs/tmp"
  chmod 700 "$fs/root" "$fs/home/nonroot"
  chown 65532:65532 "$fs/home/nonroot"
  distroless_tar=$work/distroless.tar
  tar --numeric-owner -C "$fs" -cf "$distroless_tar" .
}
# A build rather than docker import, which sets no architecture on older
# engines; FROM scratch and ADD (which unpacks the tar, owners and modes
# kept) run nothing, so any platform builds here.
import_distroless() { # IMAGE PLATFORM
  distroless_files
  cat >"$work/Dockerfile.distroless" <<'EOF'
FROM scratch
ADD distroless.tar /
USER 65532
WORKDIR /home/nonroot
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.description="distroless-style static runtime (coffee-suppliers stand-in)"
EOF
  if ! tar -c -C "$work" Dockerfile.distroless distroless.tar |
    DOCKER_BUILDKIT=1 docker build --platform "$2" -f Dockerfile.distroless -t "$1" - >"$work/distroless.log" 2>&1; then
    tail -n 20 "$work/distroless.log" >&2
    die "building $1 failed"
  fi
  built+=("$1")
}
if wanted "$DISTROLESS"; then import_distroless "$DISTROLESS" "linux/$arch"; fi
if wanted "$DISTROLESS_ARM64"; then import_distroless "$DISTROLESS_ARM64" linux/arm64; fi

# --- mariadb:10.11 and haproxy:2.6 from Debian's packages --------------------
build_from_base() { # IMAGE DIR
  local image=$1 dir=$2
  note "$image  ($BASE + Debian's packages, $dir/Dockerfile)"
  if wanted "$image"; then
    if ! docker build --build-arg BASE="$BASE" -t "$image" "$here/$dir" >"$work/$dir.log" 2>&1; then
      tail -n 40 "$work/$dir.log" >&2
      die "building $image failed"
    fi
    built+=("$image")
  fi
}
build_from_base "$MARIADB" mariadb
build_from_base "$HAPROXY" haproxy

# --- registry:3 --------------------------------------------------------------
# The Distribution registry compiled from source on the Go stand-in (modules
# from the Go module proxy), on the distroless-style runtime. The first build
# takes a few minutes.
note "$REGISTRY  (distribution/v3 built on $GOLANG, run on $DISTROLESS)"
if wanted "$REGISTRY"; then
  if ! DOCKER_BUILDKIT=1 docker build --build-arg GO_IMAGE="$GOLANG" --build-arg RUNTIME_IMAGE="$DISTROLESS" \
    -t "$REGISTRY" "$here/registry" >"$work/registry.log" 2>&1; then
    tail -n 40 "$work/registry.log" >&2
    die "building $REGISTRY failed"
  fi
  built+=("$REGISTRY")
fi

# --- smoke checks: each image starts its main program ------------------------
note "smoke checks"
docker run --rm "$GOLANG" go version
docker run --rm --entrypoint mariadbd "$MARIADB" --version
docker run --rm --entrypoint haproxy "$HAPROXY" -v | sed -n 1p
docker run --rm "$REGISTRY" --version
# The runtime has no shell: check its files by exporting them.
cid=$(docker create "$DISTROLESS" /nothing)
docker export "$cid" | tar -t >"$work/distroless.files"
docker rm "$cid" >/dev/null
for f in etc/ssl/certs/ca-certificates.crt etc/passwd etc/group tmp/ home/nonroot/; do
  grep -qx "$f" "$work/distroless.files" || die "$DISTROLESS lacks /$f"
done
platform=$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$DISTROLESS_ARM64")
[ "$platform" = linux/arm64 ] || die "$DISTROLESS_ARM64 is for $platform, want linux/arm64"
echo "    ok"

note "built: ${built[*]:-nothing (all present)}"
docker image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.Size}}' | { read -r header; echo "$header"; grep '^coffee-standin/' | sort; }
