#!/usr/bin/env bash
# Prints the MySQL-compatible image the real-server tests run on (make test,
# make test-mysql), or says on stderr why there is none and exits 1:
#
#   TEST_MYSQL_IMAGE when set, else mysql:8.4 — present or pulled now;
#   else, when TEST_MYSQL_IMAGE is unset and no registry answers, the local
#   MariaDB stand-in (make standins), saying so.
set -euo pipefail

standin=coffee-standin/mariadb:10.11
want=${TEST_MYSQL_IMAGE:-mysql:8.4}

if ! docker info >/dev/null 2>&1; then
  echo "no Docker engine answers (apt-get install docker.io, then start dockerd)" >&2
  exit 1
fi
if docker image inspect "$want" >/dev/null 2>&1; then
  echo "$want"
  exit 0
fi
echo "pulling $want for the real-server tests…" >&2
if pulled=$(docker pull --quiet "$want" 2>&1); then
  echo "$want"
  exit 0
fi
if [ -z "${TEST_MYSQL_IMAGE:-}" ] && docker image inspect "$standin" >/dev/null 2>&1; then
  echo "cannot pull $want ($pulled): using the local stand-in $standin instead" >&2
  echo "$standin"
  exit 0
fi
echo "cannot pull $want ($pulled): set TEST_MYSQL_IMAGE to a MySQL-compatible image you have, or build the stand-in $standin with make standins" >&2
exit 1
