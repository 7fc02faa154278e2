################################################################################
# The HS256 secret: in SSM Parameter Store, never in the environment or the state
################################################################################

locals {
  # HS256 unless a key set is given. The secret then lives in a SecureString parameter: an existing one
  # the module only names (auth_jwt_secret_parameter_name), or one it creates with a write-only value
  # (Terraform keeps neither the value nor, the variable being ephemeral, the plan's copy of it).
  hs256                     = var.auth_jwks_url == null
  create_secret_parameter   = local.hs256 && var.auth_jwt_secret_parameter_name == null
  jwt_secret_parameter_name = local.hs256 ? coalesce(var.auth_jwt_secret_parameter_name, "/${var.name}/auth-jwt-secret") : null

  # Built rather than read from the resource, so that an existing parameter is granted the same way.
  jwt_secret_parameter_arn = local.hs256 ? "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter/${trimprefix(local.jwt_secret_parameter_name, "/")}" : null
}

data "aws_caller_identity" "current" {}

# Encrypted with the AWS managed key aws/ssm, whose key policy lets the account's principals decrypt
# through SSM: the authorizer's role needs ssm:GetParameter only.
resource "aws_ssm_parameter" "auth_jwt_secret" {
  count = local.create_secret_parameter ? 1 : 0

  name        = local.jwt_secret_parameter_name
  description = "HS256 secret(s) the ${var.name} authorizer verifies tokens with, one a line (new first during a rotation)"
  type        = "SecureString"

  # Written when created and whenever auth_jwt_secret_version changes; never read back into state.
  value_wo         = var.auth_jwt_secret
  value_wo_version = var.auth_jwt_secret_version

  tags = var.tags
}
