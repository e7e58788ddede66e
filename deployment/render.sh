#!/usr/bin/env bash
# Fills in a deployment/ file for this account and environment: every
# <NAME> placeholder becomes the value of the environment variable NAME
# (the CodeBuild project sets them), except <IMAGE1_NAME> and
# <TASK_DEFINITION>, which the pipeline's CodeDeployToECS action fills in.
#
#   deployment/render.sh deployment/taskdef-customer.json > release/taskdef.json
#   deployment/render.sh --platform    # the Docker platform of CPU_ARCHITECTURE
#
# DB_POOL_SIZE, unless set, is the environment's services.DatabasePoolSize
# in infra/params/ENV_NAME.json: the file the services stack was deployed
# with, so a release's tasks open as many connections as the first ones.
# CPU_ARCHITECTURE, unless set, is the same file's
# services.<Service>CpuArchitecture for SERVICE (customer or employee; by
# default the service a taskdef-SERVICE.json is for),
# X86_64 (the template's default) when the file gives none; --platform
# prints its Docker platform (linux/amd64, linux/arm64), which buildspec.yml
# builds the image for, so image and task definition always agree.
#
# It fails, naming the variable, when one is unset, so a task definition
# never reaches ECS with a placeholder in it.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 FILE | $0 --platform" >&2; exit 2; }
params="$(dirname "$0")/../infra/params/${ENV_NAME:-}.json"
# services_param NAME: the services stack's NAME in the parameter file, or "".
services_param() {
  [ -n "${ENV_NAME:-}" ] && [ -f "$params" ] || return 0
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("services", {}).get(sys.argv[2], ""))' "$params" "$1"
}
if [ -z "${DB_POOL_SIZE:-}" ]; then
  DB_POOL_SIZE=$(services_param DatabasePoolSize)
fi
# The service: SERVICE, or the one the file is for (taskdef-customer.json).
service=${SERVICE:-}
[[ -n $service || $1 != *taskdef-*.json ]] || { service=${1##*taskdef-}; service=${service%.json}; }
if [ -z "${CPU_ARCHITECTURE:-}" ] && [ -n "$service" ]; then
  CPU_ARCHITECTURE=$(services_param "${service^}CpuArchitecture")
  CPU_ARCHITECTURE=${CPU_ARCHITECTURE:-X86_64}
fi
if [ "$1" = --platform ]; then
  case ${CPU_ARCHITECTURE:-} in
    X86_64) echo linux/amd64 ;;
    ARM64) echo linux/arm64 ;;
    *) echo "$0: CPU_ARCHITECTURE must be X86_64 or ARM64 (or SERVICE set), got '${CPU_ARCHITECTURE:-}'" >&2; exit 1 ;;
  esac
  exit 0
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
