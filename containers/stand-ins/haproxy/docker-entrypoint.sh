#!/bin/sh
# The official haproxy image's entrypoint: options alone mean haproxy with
# those options, and haproxy always runs in the foreground (-db) as a master
# with workers (-W), so reloads and SIGUSR1 stops behave as in production.
set -e
case $1 in
  -*) set -- haproxy "$@" ;;
esac
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
