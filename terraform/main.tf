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

module "fanout" {
  source = "./modules/fanout"

  name          = local.name
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../dist")

  stage_name                     = var.stage_name
  stage_throttling_burst_limit   = var.stage_throttling_burst_limit
  stage_throttling_rate_limit    = var.stage_throttling_rate_limit
  stage_detailed_metrics_enabled = var.stage_detailed_metrics_enabled
  manage_api_gateway_account     = var.manage_api_gateway_account

  auth_jwt_secret                  = var.auth_jwt_secret
  auth_jwks_url                    = var.auth_jwks_url
  auth_issuer                      = var.auth_issuer
  auth_audience                    = var.auth_audience
  max_subscriptions_per_connection = var.max_subscriptions_per_connection

  route_function_memory_size  = var.route_function_memory_size
  route_function_timeout      = var.route_function_timeout
  fanout_function_memory_size = var.fanout_function_memory_size
  fanout_function_timeout     = var.fanout_function_timeout
  fanout_concurrency          = var.fanout_concurrency
  fanout_page_size            = var.fanout_page_size
  fanout_max_attempts         = var.fanout_max_attempts
  fanout_max_retry_messages   = var.fanout_max_retry_messages
  log_level                   = var.log_level
  log_retention_in_days       = var.log_retention_in_days
  metrics_namespace           = coalesce(var.metrics_namespace, local.name)

  table_point_in_time_recovery = var.table_point_in_time_recovery
  table_deletion_protection    = var.table_deletion_protection

  fanout_max_receive_count       = var.fanout_max_receive_count
  fanout_batch_size              = var.fanout_batch_size
  fanout_batching_window_seconds = var.fanout_batching_window_seconds
  fanout_maximum_concurrency     = var.fanout_maximum_concurrency

  alarms_enabled                   = var.alarms_enabled
  alarm_sns_topic_arn              = var.alarm_sns_topic_arn
  alarm_oldest_message_age_seconds = var.alarm_oldest_message_age_seconds
}
