provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Application = "fanout"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}

locals {
  name = "${var.name}-${var.environment}"
}

# Every module input but name, artifacts_dir and the secrets (and tags, which reach every resource
# through the provider's default_tags) comes from var.fanout under the module's own name; an absent
# one is null, which the module's non-nullable variables turn into their defaults. Terraform cannot
# spread an object into a module's arguments, hence one line per input: the offline checker reports
# a tfvars attribute no line reads, and the policy tests a module input no line passes.
module "fanout" {
  source = "./modules/fanout"

  name            = local.name
  artifacts_dir   = coalesce(var.artifacts_dir, "${path.root}/../dist")
  auth_jwt_secret = var.auth_jwt_secret
  backend_proof   = var.backend_proof

  # This stack's own default: a metrics namespace per environment.
  metrics_namespace = coalesce(try(var.fanout.metrics_namespace, null), local.name)

  manage_api_gateway_account = try(var.fanout.manage_api_gateway_account, null)

  stage_name                     = try(var.fanout.stage_name, null)
  stage_throttling_burst_limit   = try(var.fanout.stage_throttling_burst_limit, null)
  stage_throttling_rate_limit    = try(var.fanout.stage_throttling_rate_limit, null)
  stage_detailed_metrics_enabled = try(var.fanout.stage_detailed_metrics_enabled, null)

  auth_jwt_secret_parameter_name = try(var.fanout.auth_jwt_secret_parameter_name, null)
  auth_jwt_secret_version        = try(var.fanout.auth_jwt_secret_version, null)

  auth_jwks_url = try(var.fanout.auth_jwks_url, null)
  auth_issuer   = try(var.fanout.auth_issuer, null)
  auth_audience = try(var.fanout.auth_audience, null)

  settings                  = try(var.fanout.settings, null)
  functions                 = try(var.fanout.functions, null)
  history_retention_seconds = try(var.fanout.history_retention_seconds, null)

  log_level             = try(var.fanout.log_level, null)
  log_retention_in_days = try(var.fanout.log_retention_in_days, null)

  table_point_in_time_recovery = try(var.fanout.table_point_in_time_recovery, null)
  table_deletion_protection    = try(var.fanout.table_deletion_protection, null)

  event_target_maximum_event_age_seconds = try(var.fanout.event_target_maximum_event_age_seconds, null)
  event_target_maximum_retry_attempts    = try(var.fanout.event_target_maximum_retry_attempts, null)
  fanout_queue_message_retention_seconds = try(var.fanout.fanout_queue_message_retention_seconds, null)
  dlq_message_retention_seconds          = try(var.fanout.dlq_message_retention_seconds, null)
  fanout_queue                           = try(var.fanout.fanout_queue, null)

  alarms_enabled                   = try(var.fanout.alarms_enabled, null)
  alarm_sns_topic_arn              = try(var.fanout.alarm_sns_topic_arn, null)
  alarm_notifications_required     = try(var.fanout.alarm_notifications_required, null)
  alarm_client_errors_per_minute   = try(var.fanout.alarm_client_errors_per_minute, null)
  alarm_oldest_message_age_seconds = try(var.fanout.alarm_oldest_message_age_seconds, null)

  tracing_enabled = try(var.fanout.tracing_enabled, null)

  route_backend                  = try(var.fanout.route_backend, null)
  backend_url                    = try(var.fanout.backend_url, null)
  backend_vpc_link_id            = try(var.fanout.backend_vpc_link_id, null)
  backend_integration_timeout_ms = try(var.fanout.backend_integration_timeout_ms, null)
  backend_proof_parameter_name   = try(var.fanout.backend_proof_parameter_name, null)
  backend_proof_version          = try(var.fanout.backend_proof_version, null)
}
