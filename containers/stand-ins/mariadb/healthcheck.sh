#!/bin/bash
# Healthy once the server accepts TCP connections on 127.0.0.1: only the final
# server listens there (the one that initialises the data directory runs with
# --skip-networking), so healthy means initialised and ready.
#
# Called as the official image's script is (healthcheck.sh --connect
# --innodb_initialized); every test it is asked for comes down to this one.
# It logs in as the entrypoint's login-only healthcheck account when the data
# directory has one; `mariadb-admin ping` also succeeds when refused a login,
# so a data directory without it still reports health, at the cost of a
# warning in the server log.
set -eu
defaults=(--no-defaults)
if [ -r /var/lib/mysql/.my-healthcheck.cnf ]; then
  defaults=(--defaults-file=/var/lib/mysql/.my-healthcheck.cnf)
fi
exec mariadb-admin "${defaults[@]}" --protocol=tcp --host=127.0.0.1 --port="${MARIADB_PORT:-3306}" \
  --connect-timeout=2 --silent ping
