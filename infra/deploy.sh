#!/usr/bin/env bash
# Deploys the whole platform for one environment, or tears it down, with
# awscli (v1 or v2) and the account its credentials name:
#
#   infra/deploy.sh deploy ENV      # make deploy ENV=dev
#   infra/deploy.sh teardown ENV    # make teardown ENV=dev
#
# Parameters come from infra/params/ENV.json, one object per stack. The
# stacks, in dependency order (each imports the exports of those before):
# network, data, registry, services, monitoring, pipelines.
#
# The first deployment, before any image exists: the services stack needs
# an image for its first task definitions, and the pipelines stack needs the
# services for its CodeDeploy deployment groups. So once the registry
# exists, this script builds the two service images from the working copy
# (make images, Docker) and pushes them, tagged with the commit, unless
# CUSTOMER_IMAGE_TAG / EMPLOYEE_IMAGE_TAG name images already in ECR. Later
# runs keep the services stack's image tags: from then on the pipelines
# release new images through CodeDeploy (docs/deploy.md).
#
# Settings: AWS_REGION or AWS_DEFAULT_REGION (or the profile's), and
# AWS_ENDPOINT_URL to aim at another endpoint (the tests use moto_server).
# SKIP_IMAGES=1 skips the image bootstrap (for tests; the tags must then be
# given).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 deploy|teardown ENV (parameters in infra/params/ENV.json)" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1 env=$2
params=infra/params/$env.json
[ -f "$params" ] || { echo "$0: no $params (copy infra/params/dev.json)" >&2; exit 2; }
[[ $env =~ ^[a-z][a-z0-9]{1,9}$ ]] || { echo "$0: ENV must be 2-10 lowercase letters and digits, got $env" >&2; exit 2; }

prefix=coffee-suppliers-$env
stacks=(network data registry services monitoring pipelines)

output() { # output STACK KEY: a stack's output value
  aws cloudformation describe-stacks --stack-name "$prefix-$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

stack_exists() {
  aws cloudformation describe-stacks --stack-name "$prefix-$1" >/dev/null 2>&1
}

deploy_stack() { # deploy_stack NAME [Key=Value…]
  local name=$1 overrides
  shift
  mapfile -t overrides < <(go run ./infra/cmd/stackparams "$params" "infra/templates/$name.yaml" "$name")
  echo "==> $prefix-$name"
  # Parameters not given keep their previous values on an update.
  aws cloudformation deploy --stack-name "$prefix-$name" \
    --template-file "infra/templates/$name.yaml" \
    --parameter-overrides EnvName="$env" "${overrides[@]}" "$@" \
    --capabilities CAPABILITY_NAMED_IAM \
    --tags Project=coffee-suppliers Environment="$env" \
    --no-fail-on-empty-changeset
}

image_exists() { # image_exists SERVICE TAG
  aws ecr describe-images --repository-name "$prefix/$1" --image-ids imageTag="$2" >/dev/null 2>&1
}

# bootstrap_images: the services' first images, built here and pushed.
bootstrap_images() {
  local tag registry svc missing=()
  tag=$(git rev-parse --short=12 HEAD)
  CUSTOMER_IMAGE_TAG=${CUSTOMER_IMAGE_TAG:-$tag}
  EMPLOYEE_IMAGE_TAG=${EMPLOYEE_IMAGE_TAG:-$tag}
  [ "${SKIP_IMAGES:-}" = 1 ] && return
  image_exists customer "$CUSTOMER_IMAGE_TAG" || missing+=(customer)
  image_exists employee "$EMPLOYEE_IMAGE_TAG" || missing+=(employee)
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$CUSTOMER_IMAGE_TAG" != "$tag" ] || [ "$EMPLOYEE_IMAGE_TAG" != "$tag" ]; then
    echo "$0: ${missing[*]}: no image with the tag given in ECR" >&2
    exit 1
  fi
  git diff --quiet HEAD || echo "WARNING: the working copy has uncommitted changes; the first images include them but are tagged $tag"
  registry=$(output registry CustomerRepositoryUri)
  registry=${registry%%/*}
  echo "==> first images ($tag) to $registry: ${missing[*]}"
  aws ecr get-login-password | docker login --username AWS --password-stdin "$registry"
  make images IMAGE_REPO="$registry/$prefix" IMAGE_TAG="$tag"
  for svc in "${missing[@]}"; do
    docker push "$registry/$prefix/$svc:$tag"
  done
}

deploy() {
  deploy_stack network
  deploy_stack data
  deploy_stack registry
  if stack_exists services; then
    deploy_stack services
  else
    bootstrap_images
    deploy_stack services CustomerImageTag="$CUSTOMER_IMAGE_TAG" EmployeeImageTag="$EMPLOYEE_IMAGE_TAG"
  fi
  deploy_stack monitoring
  deploy_stack pipelines
  echo
  echo "The platform: http://$(output services LoadBalancerDns)/"
  local clone
  clone=$(output pipelines RepositoryCloneUrl)
  if [ -n "$clone" ] && [ "$clone" != None ]; then
    echo "Push to start the pipelines: git push $clone HEAD:main"
  fi
}

teardown() {
  local i bucket repo
  if stack_exists pipelines; then
    # CloudFormation deletes only empty buckets.
    bucket=$(output pipelines ArtifactBucket)
    aws s3 rm "s3://$bucket" --recursive --quiet
  fi
  for ((i = ${#stacks[@]} - 1; i >= 0; i--)); do
    stack_exists "${stacks[i]}" || continue
    echo "==> deleting $prefix-${stacks[i]}"
    aws cloudformation delete-stack --stack-name "$prefix-${stacks[i]}"
    aws cloudformation wait stack-delete-complete --stack-name "$prefix-${stacks[i]}"
  done
  # The pull-through cache's repositories are made by ECR, not the stacks.
  for repo in $(aws ecr describe-repositories --query "repositories[?starts_with(repositoryName, 'ecr-public-$env/')].repositoryName" --output text); do
    aws ecr delete-repository --repository-name "$repo" --force >/dev/null
  done
  echo "Deleted. The database's final snapshot stays (rds describe-db-snapshots) until you delete it."
}

case "$action" in
  deploy) deploy ;;
  teardown) teardown ;;
  *) usage ;;
esac
