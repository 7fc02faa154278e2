data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  two_way_routes = { for key, route in local.routes : key => route if route.two_way }

  # The routes a Lambda function serves: all of them, or none with route_backend = "http" (backend.tf).
  lambda_routes = { for key, route in local.routes : key => route if !local.http_backend }

  # The alias of every function that callers invoke (functions.tf).
  function_alias = "live"

  # The @connections API of the stage, which the fan-out function posts to. Built from the API and
  # the stage name rather than the stage resource, so that the functions do not depend on the stage.
  management_endpoint = "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.region}.${data.aws_partition.current.dns_suffix}/${var.stage_name}"

  common_environment = {
    NODE_OPTIONS                 = "--enable-source-maps"
    POWERTOOLS_LOG_LEVEL         = var.log_level
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
  }

  # What the module wires into the functions' environments, by the names functions.json's "from"
  # uses (shared/deployment/manifest.ts lists the same names).
  wired = {
    table_name          = aws_dynamodb_table.this.name
    fanout_queue_url    = aws_sqs_queue.fanout.url
    fanout_dlq_url      = aws_sqs_queue.fanout_dlq.url
    management_endpoint = local.management_endpoint
    # Never the secret itself: the authorizer reads it from SSM (secret.tf). AUTH_JWT_SECRET is for
    # tests and local tools.
    auth_jwt_secret           = null
    auth_jwt_secret_parameter = local.jwt_secret_parameter_name
    auth_jwt_secret_version   = local.hs256 ? tostring(var.auth_jwt_secret_version) : null
    auth_jwks_url             = var.auth_jwks_url
    auth_issuer               = var.auth_issuer
    auth_audience             = var.auth_audience
  }

  # Every variable functions.json lists for a function: its setting, or what the module wires in.
  # Null values (an authentication input left unset) are left out of the function's environment.
  function_environment = {
    for name, fn in local.manifest.functions : name => merge(
      local.function_settings[name],
      { for key, variable in fn.environment : key => local.wired[variable.from] if can(variable.from) },
    )
  }
}

################################################################################
# Connections table: connections, subscriptions and user index in one table
################################################################################

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Every item expires: API Gateway closes a connection after 2 hours and $disconnect is best-effort.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.table_point_in_time_recovery
  }

  tags = var.tags
}
