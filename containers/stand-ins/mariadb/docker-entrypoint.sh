#!/bin/bash
# Entrypoint of the MariaDB stand-in, following the official mariadb image's
# docker-entrypoint.sh so compose files and tests written for that image work
# unchanged:
#   MARIADB_ROOT_PASSWORD | MYSQL_ROOT_PASSWORD   (or *_ALLOW_EMPTY_ROOT_PASSWORD,
#                                                   *_RANDOM_ROOT_PASSWORD)
#   MARIADB_ROOT_HOST     | MYSQL_ROOT_HOST       (default %)
#   MARIADB_DATABASE      | MYSQL_DATABASE
#   MARIADB_USER          | MYSQL_USER, MARIADB_PASSWORD | MYSQL_PASSWORD
#   each also as *_FILE, naming a file that holds the value (Docker secrets);
#   /docker-entrypoint-initdb.d/*.sql, *.sql.gz, *.sql.xz, *.sh run once, in
#   name order, on the first start against MARIADB_DATABASE.
# Not supported (the project needs none): replication variables, time zone
# tables, MARIADB_AUTO_UPGRADE, MARIADB_INITDB_SKIP_TZINFO.
set -euo pipefail

log() { printf '%s 0 [Note] [Entrypoint]: %s\n' "$(date '+%F %T')" "$*"; }
die() { printf '%s 0 [ERROR] [Entrypoint]: %s\n' "$(date '+%F %T')" "$*" >&2; exit 1; }

# `docker run IMAGE --some-option` means mariadbd with that option.
if [ "${1:0:1}" = '-' ]; then
  set -- mariadbd "$@"
fi
# Anything else (bash, mariadb, ...) runs as given.
if [ "$1" != mariadbd ] && [ "$1" != mysqld ]; then
  exec "$@"
fi

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

# As the official image: start as root to fix ownership of mounted folders,
# then run everything else, the server included, as mysql.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$DATADIR" /run/mysqld
  find "$DATADIR" /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' +
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi

# env_value NAME: MARIADB_NAME, else MYSQL_NAME, else the contents of the
# file named by MARIADB_NAME_FILE or MYSQL_NAME_FILE.
env_value() {
  local n
  for n in "MARIADB_$1" "MYSQL_$1"; do
    if [ -n "${!n:-}" ]; then
      printf '%s' "${!n}"
      return
    fi
  done
  for n in "MARIADB_$1_FILE" "MYSQL_$1_FILE"; do
    if [ -n "${!n:-}" ]; then
      [ -r "${!n}" ] || die "$n names ${!n}, which cannot be read"
      cat "${!n}"
      return
    fi
  done
}
# random_password: 48 hex digits. (Not `tr </dev/urandom | head`: under
# pipefail, tr's SIGPIPE would fail the assignment.)
random_password() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
# sql_string VALUE: VALUE as a quoted SQL string literal.
sql_string() {
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\\\'}"
}
# sql_ident VALUE: VALUE as a quoted SQL identifier.
# shellcheck disable=SC2016 # the backticks are SQL's quotes, not a command
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

if [ ! -d "$DATADIR/mysql" ]; then
  root_password=$(env_value ROOT_PASSWORD)
  root_host=$(env_value ROOT_HOST)
  root_host=${root_host:-%}
  database=$(env_value DATABASE)
  user=$(env_value USER)
  password=$(env_value PASSWORD)
  allow_empty=$(env_value ALLOW_EMPTY_ROOT_PASSWORD)
  [ -n "$allow_empty" ] || allow_empty=${MYSQL_ALLOW_EMPTY_PASSWORD:-}
  random_root=$(env_value RANDOM_ROOT_PASSWORD)
  if [ -z "$root_password" ] && [ -z "$allow_empty" ] && [ -z "$random_root" ]; then
    die "Database is uninitialized and password option is not specified
	You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
  fi
  if [ -n "$random_root" ]; then
    root_password=$(random_password)
    log "GENERATED ROOT PASSWORD: $root_password"
  fi
  if [ "$user" = root ]; then
    die "MARIADB_USER=root: root is created by MARIADB_ROOT_PASSWORD; choose another name"
  fi
  if [ -n "$user" ] && [ -z "$password" ]; then
    die "MARIADB_USER is set but MARIADB_PASSWORD is not"
  fi

  log "Initializing database files"
  mariadb-install-db --datadir="$DATADIR" --rpm --skip-test-db --auth-root-authentication-method=normal \
    --skip-log-bin --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 \
    --loose-innodb_buffer_pool_dump_at_shutdown=0 >/dev/null
  log "Database files initialized"

  # A private server, unreachable from the network, to apply the settings.
  log "Starting temporary server"
  "$@" --skip-networking --socket="$SOCKET" --skip-log-bin \
    --loose-innodb_buffer_pool_load_at_startup=0 &
  temp_pid=$!
  # Wait for it, bounded: up to 60 s, giving up at once if it died.
  for ((i = 0; ; i++)); do
    if mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
      break
    fi
    kill -0 "$temp_pid" 2>/dev/null || die "the temporary server exited during initialisation"
    ((i < 600)) || die "the temporary server did not answer within 60 s"
    sleep 0.1
  done
  log "Temporary server started."

  # Every SQL from here on runs as root; once root has a password, through
  # MYSQL_PWD, which keeps it off the process list.
  sql() { MYSQL_PWD=$root_password mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot "$@"; }
  log "Securing system users"
  healthcheck_password=$(random_password)
  (
    umask 077
    printf '[client]\nuser=healthcheck\npassword=%s\n' "$healthcheck_password" >"$DATADIR/.my-healthcheck.cnf"
  )
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    # The installer's extra root accounts and anonymous users go; root is
    # root@localhost and root@MARIADB_ROOT_HOST, with the given password.
    echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1', ''@'localhost';"
    echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@', QUOTE(@@hostname));"
    echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS ''''@', QUOTE(@@hostname));"
    echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD($(sql_string "$root_password"));"
    if [ "$root_host" != localhost ]; then
      echo "CREATE USER 'root'@$(sql_string "$root_host") IDENTIFIED BY $(sql_string "$root_password");"
      echo "GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
      echo "GRANT PROXY ON ''@'%' TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    fi
    # As the official image: an account for healthcheck.sh that can only
    # log in, so health checks do not fill the log with refused logins.
    for h in 127.0.0.1 ::1 localhost; do
      echo "CREATE USER 'healthcheck'@'$h' IDENTIFIED BY $(sql_string "$healthcheck_password");"
    done
    if [ -n "$database" ]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$database");"
    fi
    if [ -n "$user" ]; then
      echo "CREATE USER $(sql_string "$user")@'%' IDENTIFIED BY $(sql_string "$password");"
      if [ -n "$database" ]; then
        echo "GRANT ALL ON $(sql_ident "${database//_/\\_}").* TO $(sql_string "$user")@'%';"
      fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | MYSQL_PWD='' mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot --database=mysql
  db_args=()
  if [ -n "$database" ]; then
    log "Created database $database"
    db_args=(--database="$database")
  fi
  if [ -n "$user" ]; then
    log "Created user $user"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case $f in
      *.sh)
        log "$0: running $f"
        # shellcheck source=/dev/null # the caller's script, as in the official image
        if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) log "$0: running $f"; sql "${db_args[@]}" <"$f" ;;
      *.sql.gz) log "$0: running $f"; gunzip -c "$f" | sql "${db_args[@]}" ;;
      *.sql.xz) log "$0: running $f"; xz -dc "$f" | sql "${db_args[@]}" ;;
      *) log "$0: ignoring $f" ;;
    esac
  done

  log "Stopping temporary server"
  kill -TERM "$temp_pid"
  wait "$temp_pid" || die "the temporary server did not stop cleanly"
  log "Temporary server stopped"
  echo
  log "MariaDB init process done. Ready for start up."
  echo
fi

# The server is PID 1: SIGTERM from `docker stop` shuts it down cleanly.
exec "$@"
