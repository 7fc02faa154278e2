#!/usr/bin/env bash
# Runs Terraform on the root stack (terraform/) for one environment:
#
#   scripts/terraform/tf.sh plan ENV        init (S3 backend from envs/ENV.s3.tfbackend) + plan
#   scripts/terraform/tf.sh apply ENV       init + apply (asks for confirmation unless TF_ARGS=-auto-approve)
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
Install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) and AWS credentials,
then run 'make $command ENV=$env' again. 'make tf-check' runs the offline checks without Terraform."
  fi
  local tfvars="$stack/envs/$env.tfvars" backend="$stack/envs/$env.s3.tfbackend"
  [[ -f $tfvars ]] || die "no $tfvars: copy envs/dev.tfvars to it and set region and environment"
  [[ -f $backend ]] || die "no $backend: copy envs/dev.s3.tfbackend to it and set bucket, key and region"
  if grep -Eq '^[^#]*CHANGE-ME' "$backend"; then
    die "$backend still holds CHANGE-ME placeholders: set the S3 bucket (and its region) that keeps the state"
  fi
  if [[ $command != destroy ]] && ! grep -Eq '^\s*auth_jwks_url\s*=' "$tfvars" && [[ -z ${TF_VAR_auth_jwt_secret:-} ]]; then
    die "no token key: export TF_VAR_auth_jwt_secret (>= 32 bytes, e.g. \$(openssl rand -base64 48)) or set auth_jwks_url in $tfvars"
  fi
}

init() {
  terraform -chdir="$stack" init -input=false -reconfigure -backend-config="envs/$env.s3.tfbackend"
}

preflight
[[ $preflight_only == --preflight-only ]] && exit 0
case $command in
plan)
  init
  # shellcheck disable=SC2086 # TF_ARGS is a list of arguments
  terraform -chdir="$stack" plan -input=false -var-file="envs/$env.tfvars" -out="$env.tfplan" ${TF_ARGS:-}
  echo "plan saved to $stack/$env.tfplan; 'make apply ENV=$env' plans again and asks before changing anything"
  ;;
apply | destroy)
  init
  # shellcheck disable=SC2086
  terraform -chdir="$stack" "$command" -var-file="envs/$env.tfvars" ${TF_ARGS:-}
  ;;
esac
