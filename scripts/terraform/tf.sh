#!/usr/bin/env bash
# Runs Terraform on the root stack (terraform/) for one environment:
#
#   scripts/terraform/tf.sh plan ENV        init (S3 backend from envs/ENV.s3.tfbackend) + plan
#   scripts/terraform/tf.sh apply ENV       init + apply: the plan `plan ENV` saved when nothing it was
#                                           made from has changed since, else plan and apply in one go
#                                           (asks for confirmation unless TF_ARGS=-auto-approve)
#   scripts/terraform/tf.sh destroy ENV     init + destroy
#   scripts/terraform/tf.sh plan ENV --preflight-only
#                                           only the checks: terraform on PATH, envs/ENV.tfvars,
#                                           envs/ENV.s3.tfbackend filled in, a token key configured
#
# `make plan|apply|destroy ENV=...` run the preflight, then `make build`, then this script. Extra
# arguments for terraform go in TF_ARGS, e.g. TF_ARGS='-target=module.fanout.aws_sqs_queue.fanout'.
set -euo pipefail
cd "$(dirname "$0")/../.."

command=${1:-}
env=${2:-}
preflight_only=${3:-}
stack=terraform

die() {
  echo "$*" >&2
  exit 1
}

[[ $command =~ ^(plan|apply|destroy)$ && -n $env ]] || die "usage: $0 plan|apply|destroy ENV [--preflight-only]"
[[ $env =~ ^[a-z][a-z0-9]*$ ]] || die "ENV must be lowercase letters and digits, got '$env'"

preflight() {
  if ! command -v terraform >/dev/null 2>&1; then
    die "terraform is not installed (or not on PATH), so 'make $command' cannot run here.
Install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install) and AWS credentials,
then run 'make $command ENV=$env' again. 'make tf-check' runs the offline checks without Terraform."
  fi
  local tfvars="$stack/envs/$env.tfvars" backend="$stack/envs/$env.s3.tfbackend"
  [[ -f $tfvars ]] || die "no $tfvars: copy envs/dev.tfvars to it and set region and environment"
  [[ -f $backend ]] || die "no $backend: copy envs/dev.s3.tfbackend to it and set bucket, key and region"
  if grep -Eq '^[^#]*CHANGE-ME' "$backend"; then
    die "$backend still holds CHANGE-ME placeholders: set the S3 bucket (and its region) that keeps the state"
  fi
  if [[ $command != destroy ]] && ! grep -Eq '^\s*(auth_jwks_url|auth_jwt_secret_parameter_name)\s*=' "$tfvars" && [[ -z ${TF_VAR_auth_jwt_secret:-} ]]; then
    die "no token key: export TF_VAR_auth_jwt_secret (>= 32 bytes, e.g. \$(openssl rand -base64 48)), or set auth_jwt_secret_parameter_name (an SSM parameter you keep) or auth_jwks_url in $tfvars"
  fi
}

init() {
  terraform -chdir="$stack" init -input=false -reconfigure -backend-config="envs/$env.s3.tfbackend"
}

# What a saved plan was made from: every Terraform file and setting of the stack, the bundles, and the
# extra arguments. A saved plan applies only while these are unchanged; Terraform itself refuses one
# whose state has moved on ("Saved plan is stale").
fingerprint() {
  {
    find "$stack" -path '*/.terraform' -prune -o -type f \( -name '*.tf' -o -name '*.tfvars' -o -name '*.json' -o -name '*.tfbackend' \) -print
    find dist -maxdepth 1 -name '*.zip' 2>/dev/null
  } | LC_ALL=C sort | xargs sha256sum
  echo "TF_ARGS=${TF_ARGS:-}"
}

plan_file="$env.tfplan"
plan_inputs="$stack/$env.tfplan.inputs"

preflight
[[ $preflight_only == --preflight-only ]] && exit 0
case $command in
plan)
  init
  rm -f "$stack/$plan_file" "$plan_inputs"
  # shellcheck disable=SC2086 # TF_ARGS is a list of arguments
  terraform -chdir="$stack" plan -input=false -var-file="envs/$env.tfvars" -out="$plan_file" ${TF_ARGS:-}
  fingerprint >"$plan_inputs"
  echo "plan saved to $stack/$plan_file; 'make apply ENV=$env' applies exactly this plan while nothing it was made from changes"
  ;;
apply)
  init
  if [[ -f $stack/$plan_file ]]; then
    if [[ -f $plan_inputs ]] && diff -q <(fingerprint) "$plan_inputs" >/dev/null; then
      echo "applying the plan saved by 'make plan ENV=$env' ($stack/$plan_file)"
      # A saved plan carries its variables and was approved when it was read: no -var-file, no prompt.
      # It applies once: the files go whatever the outcome, so a failed apply is planned again.
      status=0
      terraform -chdir="$stack" apply -input=false "$plan_file" || status=$?
      rm -f "$stack/$plan_file" "$plan_inputs"
      exit "$status"
    fi
    die "$stack/$plan_file is stale: the configuration, the tfvars, the bundles or TF_ARGS changed since 'make plan ENV=$env'.
Run 'make plan ENV=$env' again, or delete $stack/$plan_file to plan and apply in one go."
  fi
  # shellcheck disable=SC2086
  terraform -chdir="$stack" apply -var-file="envs/$env.tfvars" ${TF_ARGS:-}
  ;;
destroy)
  init
  rm -f "$stack/$plan_file" "$plan_inputs"
  # shellcheck disable=SC2086
  terraform -chdir="$stack" destroy -var-file="envs/$env.tfvars" ${TF_ARGS:-}
  ;;
esac
