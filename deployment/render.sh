#!/usr/bin/env bash
# Fills in a deployment/ file for this account and environment: every
# <NAME> placeholder becomes the value of the environment variable NAME
# (the CodeBuild project sets them), except <IMAGE1_NAME> and
# <TASK_DEFINITION>, which the pipeline's CodeDeployToECS action fills in.
#
#   deployment/render.sh deployment/taskdef-customer.json > release/taskdef.json
#
# DB_POOL_SIZE, unless set, is the environment's services.DatabasePoolSize
# in infra/params/ENV_NAME.json: the file the services stack was deployed
# with, so a release's tasks open as many connections as the first ones.
#
# It fails, naming the variable, when one is unset, so a task definition
# never reaches ECS with a placeholder in it.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 FILE" >&2; exit 2; }
params="$(dirname "$0")/../infra/params/${ENV_NAME:-}.json"
if [ -z "${DB_POOL_SIZE:-}" ] && [ -n "${ENV_NAME:-}" ] && [ -f "$params" ]; then
  DB_POOL_SIZE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("services", {}).get("DatabasePoolSize", ""))' "$params")
fi
text=$(cat "$1")
for name in $(grep -o '<[A-Z][A-Z0-9_]*>' "$1" | tr -d '<>' | sort -u); do
  case "$name" in IMAGE1_NAME | TASK_DEFINITION) continue ;; esac
  if [ -z "${!name:-}" ]; then
    echo "$0: $1 needs $name, which is not set" >&2
    exit 1
  fi
  text=${text//<$name>/${!name}}
done
printf '%s\n' "$text"
