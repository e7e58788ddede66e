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
# Before any call to AWS, every stack's parameters are checked against its
# template (names, allowed values, patterns, bounds) and prod without a
# certificate is refused (employees would sign in over plain HTTP).
#
# A parameter file may give the stacks' roles by ARN instead of letting them
# create any (params/lab.json: an account that may not create IAM roles),
# naming the account as ${AWS::AccountId}: the id from aws sts
# get-caller-identity goes in, and each role is read (aws iam get-role)
# before any stack: it must exist and trust the services that assume it.
#
# The first deployment: the services stack needs images for its first task
# definitions, and the pipelines stack needs the services for its CodeDeploy
# deployment groups. So once the registry exists, this script builds the
# images from the working copy (make images), each for the CPU architecture
# of its task definition (services.CustomerCpuArchitecture and
# EmployeeCpuArchitecture), checks that, pushes them tagged bootstrap-COMMIT (not the
# plain commit tag, so the pipeline's first release builds its own image),
# creates the services stack, and runs the first migration as a one-off ECS
# task in the private subnets, waiting for it. CUSTOMER_IMAGE_TAG,
# EMPLOYEE_IMAGE_TAG and MIGRATION_IMAGE_TAG name images already in ECR
# instead. Later runs keep the services stack's image tags and the task
# definitions its services run: from then on the pipelines release new
# images through CodeDeploy (docs/deploy.md). With CodeCommit, the
# pipelines stack's creation seeds its repository with a zip of HEAD
# (seed_source), so the pipelines' first run releases it.
#
# Every run pulls the CloudWatch agent image the task definitions name
# through the registry's pull-through cache once from this machine: the
# cache's first pull of an image needs the internet, which tasks behind VPC
# endpoints (Egress=VpcEndpoints) do not have.
#
# Teardown stops CodeDeploy releases still under way, empties the artifact
# bucket and turns off the load balancer's deletion protection before the
# stacks go, newest first; it does not begin while the database is
# deletion-protected.
#
# Settings: the region as awscli v2 reads it (AWS_REGION, then
# AWS_DEFAULT_REGION, then the profile's), passed on to both versions;
# AWS_ENDPOINT_URL to aim at another endpoint. MIGRATE=1 runs the first
# migration again on a later run (after it failed). PARAMS_DIR reads
# ENV.json from another folder (the tests' bad parameter files).
# DEPLOY_POLL_SECONDS (10): how often a stack's events are read.
# SKIP_IMAGES=1 skips building images (the tags must then name images in ECR).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 deploy|teardown ENV (parameters in infra/params/ENV.json)" >&2; exit 2; }
die() { echo "$0: $*" >&2; exit 1; }
((BASH_VERSINFO[0] >= 4)) || die "needs bash 4 or later, this is $BASH_VERSION (macOS: brew install bash)"
[ $# -eq 2 ] || usage
action=$1 env=$2
case $action in deploy | teardown) ;; *) usage ;; esac
[[ $env =~ ^[a-z][a-z0-9]{1,9}$ ]] || { echo "$0: ENV must be 2-10 lowercase letters and digits, got '$env'" >&2; exit 2; }

params=${PARAMS_DIR:-infra/params}/$env.json
prefix=coffee-suppliers-$env
stacks=(network data registry services monitoring pipelines)
poll=${DEPLOY_POLL_SECONDS:-10}
work=$(mktemp -d)
seed_bucket="" # the repository's seed, removed on the way out (remove_seed)
trap 'remove_seed; rm -rf "$work"' EXIT

# check_parameters: every stack's parameters against its template, into
# $work/STACK.params (one Key=Value a line).
check_parameters() {
  [ -f "$params" ] || { echo "$0: no $params (copy infra/params/dev.json)" >&2; exit 2; }
  go run ./infra/cmd/stackparams check "$params" infra/templates "$env" "$work" "${stacks[@]}" ||
    die "$params: fix the parameters above; nothing was deployed"
}

param() { # param STACK KEY: a checked value of the parameter file
  sed -n "s/^$2=//p" "$work/$1.params"
}

# use_region: the region as awscli v2 finds it, exported for both versions
# (v1 ignores AWS_REGION).
use_region() {
  region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
  [ -n "$region" ] || region=$(aws configure get region 2>/dev/null || true)
  [ -n "$region" ] || die "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or your profile's: aws configure set region eu-west-1)"
  export AWS_REGION=$region AWS_DEFAULT_REGION=$region
}

# resolve_account: a parameter file may write the account's id as
# ${AWS::AccountId} (params/lab.json names the lab's roles so); the id of
# the credentials' account goes in before any value reaches CloudFormation.
resolve_account() {
  local f text
  # shellcheck disable=SC2016
  grep -qF '${AWS::AccountId}' "$work"/*.params || return 0
  account=$(aws sts get-caller-identity --query Account --output text) ||
    die "cannot read the account's id (aws sts get-caller-identity), which $params names as \${AWS::AccountId}: are the credentials current?"
  for f in "$work"/*.params; do
    text=$(<"$f")
    [ -n "$text" ] || continue
    # shellcheck disable=SC2016
    printf '%s\n' "${text//'${AWS::AccountId}'/$account}" >"$f"
  done
}

# check_roles: the roles the parameter file gives in place of those the
# stacks would create (an account that may not create IAM roles, like the
# lab's) exist, and trust every AWS service that assumes them (the service
# principals of the roles they replace), before any stack is touched: a
# missing role otherwise fails a stack half-way through.
check_roles() {
  local roles name services users doc missing problems=()
  roles=$(go run ./infra/cmd/stackparams roles infra/templates "$work" "${stacks[@]}") ||
    die "cannot list the roles $params gives"
  [ -n "$roles" ] || return 0
  echo "==> the roles $params gives"
  while IFS=$'\t' read -r name services users; do
    if ! doc=$(aws iam get-role --role-name "$name" --query Role.AssumeRolePolicyDocument --output json 2>&1); then
      if [[ $doc == *NoSuchEntity* ]]; then
        problems+=("the role $name ($users) does not exist in this account")
      else
        problems+=("cannot read the role $name ($users): ${doc//$'\n'/ }")
      fi
      continue
    fi
    # shellcheck disable=SC2086 # the services are words
    missing=$(go run ./infra/cmd/stackparams trust $services <<<"$doc") || die "cannot read the trust policy of $name"
    if [ -n "$missing" ]; then
      problems+=("the role $name ($users) cannot be assumed by $missing: its trust policy must allow sts:AssumeRole to that service")
    else
      echo "    $name: assumed by $services"
    fi
  done <<<"$roles"
  if [ ${#problems[@]} -gt 0 ]; then
    printf '%s: %s\n' "$0" "${problems[@]}" >&2
    die "fix the roles above (or name others in $params: aws iam list-roles); nothing was deployed"
  fi
}

stack_status() { # stack_status NAME: its status, NONE when there is no such stack
  local out
  if out=$(aws cloudformation describe-stacks --stack-name "$prefix-$1" --query 'Stacks[0].StackStatus' --output text 2>&1); then
    echo "$out"
  elif [[ $out == *"does not exist"* ]]; then
    echo NONE
  else
    echo "$out" >&2
    die "cannot read the state of $prefix-$1"
  fi
}

# A stack whose creation failed can only be deleted, never updated:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html
# (ROLLBACK_COMPLETE, and CREATE_FAILED or ROLLBACK_FAILED when the
# rollback was disabled or failed). Deleting it loses nothing: it never held
# a working resource.
created_never() { # created_never STATUS: the stack has to be created
  case $1 in NONE | REVIEW_IN_PROGRESS | ROLLBACK_COMPLETE | ROLLBACK_FAILED | CREATE_FAILED) return 0 ;; esac
  return 1
}

output() { # output STACK KEY: a stack's output value
  aws cloudformation describe-stacks --stack-name "$prefix-$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

stack_param() { # stack_param STACK KEY: a parameter's value in the deployed stack
  aws cloudformation describe-stacks --stack-name "$prefix-$1" \
    --query "Stacks[0].Parameters[?ParameterKey=='$2'].ParameterValue" --output text
}

# A stack's events, newest first, one a line: id, resource, type, status, reason.
events() {
  aws cloudformation describe-stack-events --stack-name "$1" \
    --query 'StackEvents[].[EventId,LogicalResourceId,ResourceType,ResourceStatus,ResourceStatusReason]' --output text
}

newest_event() { # newest_event FULLNAME: the id of its latest event
  local all
  # Read to the end: a pipe into head would kill aws with SIGPIPE.
  all=$(events "$1" 2>/dev/null) || true
  echo "${all%%$'\t'*}"
}

# first_failure FULLNAME [SINCE]: the reason of the first FAILED event
# (after the event SINCE): the cause; later ones are its consequences.
first_failure() {
  local id logical type status reason found=""
  while IFS=$'\t' read -r id logical type status reason; do
    [ -n "${2:-}" ] && [ "$id" = "$2" ] && break
    if [[ $status == *FAILED ]] && [ "$reason" != None ] && [ -n "$reason" ]; then
      found="$logical ($type): $reason"
    fi
  done < <(events "$1" 2>/dev/null || true)
  echo "$found"
}

# show_events FULLNAME START: prints the events after $last_event, oldest
# first, with the time since START; reading them may fail while the stack
# is being set up, which only delays them to the next poll.
last_event=""
show_events() {
  local lines=() i id logical type status reason t
  mapfile -t lines < <(events "$1" 2>/dev/null || true)
  for ((i = 0; i < ${#lines[@]}; i++)); do
    [ "${lines[i]%%$'\t'*}" != "$last_event" ] || break
  done
  for ((i = i - 1; i >= 0; i--)); do
    IFS=$'\t' read -r id logical type status reason <<<"${lines[i]}"
    t=$((SECONDS - $2))
    [ "$reason" != None ] || reason=""
    printf '[%d:%02d] %s  %-34s %-40s %s\n' $((t / 60)) $((t % 60)) "$1" "$logical" "$type $status" "$reason"
    last_event=$id
  done
}

deploy_stack() { # deploy_stack NAME [Key=Value…]: create or update, events as they happen
  local name=$1 full=$prefix-$1 status overrides=() baseline="" start pid rc=0 why
  shift
  mapfile -t overrides <"$work/$name.params"
  status=$(stack_status "$name")
  case $status in
    ROLLBACK_COMPLETE | ROLLBACK_FAILED | CREATE_FAILED)
      why=$(first_failure "$full")
      echo "==> $full is $status: its creation failed: ${why:-no reason recorded}"
      echo "    deleting it to create it again (CloudFormation cannot update a stack that was never created)"
      aws cloudformation delete-stack --stack-name "$full"
      aws cloudformation wait stack-delete-complete --stack-name "$full" ||
        die "$full could not be deleted: $(first_failure "$full")"
      status=NONE
      ;;
    UPDATE_ROLLBACK_FAILED)
      die "$full is UPDATE_ROLLBACK_FAILED ($(first_failure "$full")): fix that, then aws cloudformation continue-update-rollback --stack-name $full, and run again"
      ;;
    DELETE_FAILED)
      die "$full is DELETE_FAILED ($(first_failure "$full")): fix that and delete it (make teardown), then run again"
      ;;
    REVIEW_IN_PROGRESS) ;;
    *_IN_PROGRESS)
      die "$full is $status: another operation is under way; wait for it to end and run again"
      ;;
  esac
  if [ "$status" = NONE ] || [ "$status" = REVIEW_IN_PROGRESS ]; then
    echo "==> $full: creating"
  else
    echo "==> $full: updating"
    baseline=$(newest_event "$full")
  fi
  last_event=$baseline
  start=$SECONDS
  # Parameters not given keep their previous values on an update.
  aws cloudformation deploy --stack-name "$full" \
    --template-file "infra/templates/$name.yaml" \
    --parameter-overrides EnvName="$env" "${overrides[@]}" "$@" \
    --capabilities CAPABILITY_NAMED_IAM \
    --tags Project=coffee-suppliers Environment="$env" \
    --no-fail-on-empty-changeset >"$work/deploy.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    show_events "$full" "$start"
    sleep "$poll"
  done
  wait "$pid" || rc=$?
  show_events "$full" "$start"
  if [ "$rc" != 0 ]; then
    sed 's/^/    /' "$work/deploy.log" >&2
    why=$(first_failure "$full" "$baseline")
    die "$full failed: ${why:-see the message of aws above}"
  fi
  grep -h 'No changes' "$work/deploy.log" | sed 's/^/    /' || true
}

logged_in=""
ecr_login() { # ecr_login: docker may push to and pull from the account's ECR
  [ -z "$logged_in" ] || return 0
  aws ecr get-login-password | docker login --username AWS --password-stdin "$registry" >/dev/null
  logged_in=1
}

image_exists() { # image_exists REPOSITORY TAG
  aws ecr describe-images --repository-name "$1" --image-ids imageTag="$2" >/dev/null 2>&1
}

# bootstrap_images: the first images, built here for the task definitions'
# CPU, checked, pushed.
bootstrap_images() {
  local tag svc ref arch pushed platform p missing=()
  tag=bootstrap-$(git rev-parse --short=12 HEAD)
  CUSTOMER_IMAGE_TAG=${CUSTOMER_IMAGE_TAG:-$tag}
  EMPLOYEE_IMAGE_TAG=${EMPLOYEE_IMAGE_TAG:-$tag}
  MIGRATION_IMAGE_TAG=${MIGRATION_IMAGE_TAG:-$tag}
  [ "${SKIP_IMAGES:-}" = 1 ] && return
  local -A wanted=([customer]=$CUSTOMER_IMAGE_TAG [employee]=$EMPLOYEE_IMAGE_TAG [suppliersdb]=$MIGRATION_IMAGE_TAG)
  for svc in customer employee suppliersdb; do
    image_exists "$prefix/$svc" "${wanted[$svc]}" && continue
    [ "${wanted[$svc]}" = "$tag" ] || die "$svc: no image $prefix/$svc:${wanted[$svc]} in ECR"
    missing+=("$svc")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  git diff --quiet HEAD || echo "WARNING: the working copy has uncommitted changes; the first images include them but are tagged $tag"
  ecr_login
  # One make per platform, each with the images whose task definition runs on it.
  for p in $(printf '%s\n' "${platform_of[@]}" | sort -u); do
    local images=()
    for svc in "${missing[@]}"; do [ "${platform_of[$svc]}" != "$p" ] || images+=("$svc"); done
    [ ${#images[@]} -gt 0 ] || continue
    echo "==> the first images, $tag for $p: ${images[*]}"
    make images IMAGE_REPO="$registry/$prefix" IMAGE_TAG="$tag" PLATFORM="$p" IMAGES="${images[*]}"
  done
  for svc in "${missing[@]}"; do
    ref=$registry/$prefix/$svc:$tag platform=${platform_of[$svc]}
    arch=$(docker image inspect --format '{{.Architecture}}' "$ref")
    [ "linux/$arch" = "$platform" ] ||
      die "$ref was built for linux/$arch, but its task definition runs on $platform: its tasks would stop with 'exec format error'. Build it for $platform (the Dockerfiles cross-compile: Docker with BuildKit needs no emulator), then run again."
    docker push --quiet "$ref" >/dev/null
    # What ECR now holds under the tag is the image checked above.
    pushed=$(aws ecr describe-images --repository-name "$prefix/$svc" --image-ids imageTag="$tag" --query 'imageDetails[0].imageDigest' --output text)
    [[ " $(docker image inspect --format '{{join .RepoDigests " "}}' "$ref") " == *"@$pushed "* ]] ||
      die "ECR's $prefix/$svc:$tag ($pushed) is not the $platform image built and checked here"
    echo "    $svc: $ref ($platform, $pushed)"
  done
}

# pull_agent: the CloudWatch agent image(s) the task definitions name,
# pulled once through the registry's pull-through cache from here. ECR's
# first pull of an image through the cache needs the internet (a NAT route
# from a VPC); later pulls come from the cache, through the VPC endpoints:
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
pull_agent() {
  local ref repo tag refs=()
  # The image lines as the template writes them, ${AWS::AccountId} and all.
  # shellcheck disable=SC2016
  mapfile -t refs < <(sed -n 's/.*Image: !Sub "\(${AWS::AccountId}[^"]*cloudwatch-agent[^"]*\)".*/\1/p' infra/templates/services.yaml | sort -u)
  [ ${#refs[@]} -gt 0 ] || die "infra/templates/services.yaml names no CloudWatch agent image through the cache"
  for ref in "${refs[@]}"; do
    # shellcheck disable=SC2016
    ref=${ref//'${AWS::AccountId}'/$account} ref=${ref//'${AWS::Region}'/$region} ref=${ref//'${EnvName}'/$env}
    repo=${ref#*/} tag=${ref##*:}
    repo=${repo%:*}
    image_exists "$repo" "$tag" && continue
    echo "==> the CloudWatch agent into the pull-through cache: $ref"
    ecr_login
    # The agent runs beside each service, on the service's CPU.
    for p in $(printf '%s\n' "${platform_of[customer]}" "${platform_of[employee]}" | sort -u); do
      docker pull --quiet --platform "$p" "$ref" >/dev/null
    done
  done
}

# linked_role SERVICE ROLE: the service-linked role ECS (or its auto
# scaling) needs before the first cluster and service; one that exists is
# fine, and so is an account that may not create roles (the lab's) but has
# it already.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
# https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html
linked_role() {
  local out
  if out=$(aws iam create-service-linked-role --aws-service-name "$1" 2>&1); then
    echo "    created the service-linked role of $1"
  elif [[ $out == *"has been taken in this account"* ]]; then
    :
  elif [[ $out == *AccessDenied* ]] && aws iam get-role --role-name "$2" --query Role.RoleName --output text >/dev/null 2>&1; then
    echo "    $2 is there (this account may not create it)"
  else
    echo "$out" >&2
    die "could not create the service-linked role of $1 ($2), which ECS needs before its first cluster and service"
  fi
}

# run_migration: the first migration, a one-off task of the suppliersdb
# image in the private subnets, waited for.
run_migration() {
  local cluster taskdef subnets group task id result code reason
  cluster=$(output services ClusterName)
  taskdef=$(output services MigrationTaskDefinitionArn)
  subnets=$(output network PrivateSubnets)
  group=$(output network MigrationSecurityGroup)
  echo "==> the first migration: ${taskdef##*/} in the private subnets"
  task=$(aws ecs run-task --cluster "$cluster" --task-definition "$taskdef" --launch-type FARGATE --count 1 \
    --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$group],assignPublicIp=DISABLED}" \
    --started-by coffee-suppliers-deploy --query 'tasks[0].taskArn' --output text)
  if [ -z "$task" ] || [ "$task" = None ]; then
    die "ECS started no migration task (aws ecs run-task --cluster $cluster --task-definition $taskdef reported a failure)"
  fi
  id=${task##*/}
  local log="log group /ecs/$prefix/migration, stream migration/suppliersdb/$id"
  aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task" ||
    die "the migration task $id did not stop within the waiter's 10 minutes; its $log"
  result=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].[containers[0].exitCode,stoppedReason]' --output text)
  IFS=$'\t' read -r code reason <<<"$result"
  if [ "$code" != 0 ]; then
    die "the first migration failed: exit code $code ($reason). Its $log:
    aws logs get-log-events --region $region --log-group-name /ecs/$prefix/migration --log-stream-name migration/suppliersdb/$id --query 'events[].message' --output text
  Fix the cause, then run it again: MIGRATE=1 make deploy ENV=$env"
  fi
  echo "    the migration ended with exit code 0 ($log)"
}

# seed_source: with CodeCommit, the pipelines stack creates an empty
# repository, and CodePipeline runs each new pipeline once at once: that
# run fails in Source (no branch). So the repository's branch starts with
# the committed source, a zip of HEAD that CloudFormation reads from S3
# while it creates the repository (Code.S3, ignored on every update), with
# this caller's credentials (s3:GetObject), from a bucket of this account
# and region made for it and removed once the stack exists (remove_seed,
# also on the way out when the creation fails):
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codecommit-repository-code.html
# https://docs.aws.amazon.com/codecommit/latest/userguide/creating-resources-with-cloudformation.html (less than 20 MB)
seed_params=()
seed_source() {
  local bucket=$prefix-seed-$account-$region commit key out
  commit=$(git rev-parse --short=12 HEAD)
  key=source-$commit.zip
  git diff --quiet HEAD || echo "WARNING: the working copy has uncommitted changes; the repository starts with the commit $commit, without them"
  git archive --format=zip -o "$work/$key" HEAD
  echo "==> the repository's first commit: $commit, through s3://$bucket/$key (removed once the stack exists)"
  # A bucket left by an interrupted run is ours already: used again.
  if ! out=$(aws s3 mb "s3://$bucket" 2>&1) && [[ $out != *BucketAlreadyOwnedByYou* ]]; then
    echo "$out" >&2
    die "could not create the bucket s3://$bucket for the repository's first commit"
  fi
  seed_bucket=$bucket
  aws s3 cp --quiet "$work/$key" "s3://$bucket/$key"
  seed_params=(InitialSourceBucket="$bucket" InitialSourceKey="$key")
}

remove_seed() {
  [ -n "$seed_bucket" ] || return 0
  aws s3 rb "s3://$seed_bucket" --force >/dev/null ||
    echo "WARNING: could not remove s3://$seed_bucket (the repository's seed): aws s3 rb s3://$seed_bucket --force" >&2
  seed_bucket=""
}

http_warning() {
  cat <<EOF
WARNING: services.CertificateArn is empty in $params: the site is served over plain
WARNING: HTTP, and employees would sign in, and carry their session cookie, unencrypted.
WARNING: Fine for a throw-away test; set an ACM certificate's ARN for anything else.
EOF
}

deploy() {
  local cert services_status created="" extra=() svc arn dns scheme clone
  check_parameters
  cert=$(param services CertificateArn)
  if [ -z "$cert" ]; then
    [ "$env" != prod ] || die "refusing to deploy prod without services.CertificateArn in $params:
  without it the load balancer serves the sign-in page and the session cookie over plain HTTP.
  Request (or import) an ACM certificate for the site's domain in this region, put its ARN
  there, and run again; the site then answers on HTTPS and port 80 redirects to it."
    http_warning
  fi
  use_region
  resolve_account
  check_roles
  started=$SECONDS
  deploy_stack network
  deploy_stack data
  deploy_stack registry

  registry=$(output registry CustomerRepositoryUri)
  registry=${registry%%/*}
  account=${registry%%.*}
  # Each image's Docker platform, from its task definition's CPU architecture.
  platforms=$(go run ./infra/cmd/stackparams platform "$params" infra/templates/services.yaml)
  declare -gA platform_of=()
  while read -r image p; do platform_of[$image]=$p; done <<<"$platforms"
  echo "==> the service-linked roles of ECS and its auto scaling"
  linked_role ecs.amazonaws.com AWSServiceRoleForECS
  linked_role ecs.application-autoscaling.amazonaws.com AWSServiceRoleForApplicationAutoScaling_ECSService
  services_status=$(stack_status services)
  if created_never "$services_status"; then
    bootstrap_images
    pull_agent
    deploy_stack services CustomerImageTag="$CUSTOMER_IMAGE_TAG" EmployeeImageTag="$EMPLOYEE_IMAGE_TAG" MigrationImageTag="$MIGRATION_IMAGE_TAG"
    created=1
  else
    if [ -z "$(stack_param services MigrationImageTag)" ]; then
      # A services stack from before the migration task: its image now,
      # beside the services' images the stack already runs.
      CUSTOMER_IMAGE_TAG=${CUSTOMER_IMAGE_TAG:-$(stack_param services CustomerImageTag)}
      EMPLOYEE_IMAGE_TAG=${EMPLOYEE_IMAGE_TAG:-$(stack_param services EmployeeImageTag)}
      bootstrap_images
      extra+=(MigrationImageTag="$MIGRATION_IMAGE_TAG")
    fi
    pull_agent
    # CloudFormation must never change the task definition of a service
    # CodeDeploy controls: give back the one each service was given.
    for svc in Customer Employee; do
      arn=$(output services "${svc}ServiceTaskDefinition")
      if [ -n "$arn" ] && [ "$arn" != None ]; then
        extra+=("${svc}TaskDefinitionArn=$arn")
      fi
    done
    deploy_stack services "${extra[@]}"
  fi
  if [ -n "$created" ] || [ "${MIGRATE:-}" = 1 ]; then
    run_migration
  fi
  deploy_stack monitoring
  if created_never "$(stack_status pipelines)" && [ -z "$(param pipelines ConnectionArn)" ]; then
    seed_source
    deploy_stack pipelines "${seed_params[@]}"
    remove_seed
  else
    deploy_stack pipelines
  fi

  dns=$(output services LoadBalancerDns)
  scheme=http
  [ -z "$cert" ] || scheme=https
  local t=$((SECONDS - started))
  echo
  echo "Done in $((t / 60)) min $((t % 60)) s."
  echo "The site:       $scheme://$dns/   (employees: $scheme://$dns/admin/login)"
  [ -z "$cert" ] || echo "                point the certificate's domain at $dns (a CNAME, or a Route 53 alias)"
  echo "First employee: $(param data AdminEmail); the password is in Secrets Manager, secret $prefix/first-admin:"
  echo "  aws secretsmanager get-secret-value --secret-id $prefix/first-admin --region $region --query SecretString --output text"
  clone=$(output pipelines RepositoryCloneUrl)
  if [ -n "$clone" ] && [ "$clone" != None ]; then
    if [ ${#seed_params[@]} -gt 0 ]; then
      echo "The pipelines release the repository's first commit, a snapshot of $(git rev-parse --short=12 HEAD), by themselves."
      echo "Your first push replaces that snapshot with your history (once): git push --force $clone HEAD:main"
    else
      echo "Push to release: git push $clone HEAD:main"
    fi
  fi
  [ -n "$cert" ] || { echo; http_warning; }
}

# stop_releases: CodeDeploy deployments still under way keep the services'
# task sets and target groups busy; stopped, they roll back.
stop_releases() {
  local group id status
  for group in customer employee; do
    for id in $(aws deploy list-deployments --application-name "$prefix" --deployment-group-name "$group" \
      --include-only-statuses Created Queued InProgress Ready --query deployments --output text 2>/dev/null || true); do
      echo "==> stopping the $group release $id (it rolls back)"
      aws deploy stop-deployment --deployment-id "$id" --auto-rollback-enabled >/dev/null
      while status=$(aws deploy get-deployment --deployment-id "$id" --query deploymentInfo.status --output text) &&
        [[ $status =~ ^(Created|Queued|InProgress|Ready)$ ]]; do
        sleep "$poll"
      done
    done
  done
}

teardown() {
  local i name bucket repo lb
  use_region
  # A protected database fails the data stack's deletion half-way through
  # the teardown; better not to begin.
  if [ "$(stack_status data)" != NONE ] && [ "$(stack_param data DeletionProtection)" = true ]; then
    die "$prefix-data's database has DeletionProtection on: set data.DeletionProtection to \"false\" in infra/params/$env.json and make deploy ENV=$env first (its final snapshot is kept), then make teardown again"
  fi
  if [ "$(stack_status pipelines)" != NONE ]; then
    stop_releases
    # CloudFormation deletes only empty buckets.
    bucket=$(output pipelines ArtifactBucket)
    aws s3 rm "s3://$bucket" --recursive --quiet
  fi
  for ((i = ${#stacks[@]} - 1; i >= 0; i--)); do
    name=${stacks[i]}
    [ "$(stack_status "$name")" != NONE ] || continue
    if [ "$name" = services ]; then
      # A load balancer with deletion protection (prod) fails the deletion.
      lb=$(aws elbv2 describe-load-balancers --names "$prefix" --query 'LoadBalancers[0].LoadBalancerArn' --output text 2>/dev/null || true)
      if [ -n "$lb" ] && [ "$lb" != None ]; then
        aws elbv2 modify-load-balancer-attributes --load-balancer-arn "$lb" \
          --attributes Key=deletion_protection.enabled,Value=false >/dev/null
      fi
    fi
    echo "==> deleting $prefix-$name"
    aws cloudformation delete-stack --stack-name "$prefix-$name"
    aws cloudformation wait stack-delete-complete --stack-name "$prefix-$name" ||
      die "$prefix-$name was not deleted: $(first_failure "$prefix-$name")"
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
esac
