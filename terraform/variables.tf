################################################################################
# Where and what
################################################################################

variable "region" {
  description = "AWS region to deploy to, e.g. `eu-west-1`."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "environment" {
  description = "Environment name (`dev`, `prod`, ...); resources are named `<name>-<environment>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,11}$", var.environment))
    error_message = "environment must be 1 to 12 lowercase letters or digits, starting with a letter."
  }
}

variable "name" {
  description = "Name prefix; with the environment it names every resource (`fanout-dev-...`)."
  type        = string
  default     = "fanout"
}

variable "tags" {
  description = "Tags added to every resource, besides Application, Environment and ManagedBy."
  type        = map(string)
  default     = {}
}

variable "artifacts_dir" {
  description = "Directory holding the `<function>.zip` bundles, or null for `dist/` at the repository root (where `make build` writes them)."
  type        = string
  default     = null
}

################################################################################
# WebSocket API
################################################################################

variable "stage_name" {
  description = "Name of the API Gateway stage (last path segment of the WebSocket URL)."
  type        = string
  default     = "live"
}

variable "stage_throttling_burst_limit" {
  description = "Burst limit for client messages on every route of the stage."
  type        = number
  default     = 500
}

variable "stage_throttling_rate_limit" {
  description = "Steady-state limit for client messages on every route of the stage, per second."
  type        = number
  default     = 1000
}

variable "stage_detailed_metrics_enabled" {
  description = "Publish per-route CloudWatch metrics for the stage."
  type        = bool
  default     = false
}

variable "manage_api_gateway_account" {
  description = "Set the account's API Gateway CloudWatch role (one per account and region), which stage access logs need. Set false when another stack already manages it."
  type        = bool
  default     = true
}

################################################################################
# Authentication
################################################################################

variable "auth_jwt_secret" {
  description = "HS256 secret for connection tokens (at least 32 bytes). Pass it as TF_VAR_auth_jwt_secret, not in a tfvars file. Set exactly one of this and `auth_jwks_url`."
  type        = string
  default     = null
  sensitive   = true
}

variable "auth_jwks_url" {
  description = "HTTPS URL of the JWKS for RS256/ES256 tokens. Set exactly one of this and `auth_jwt_secret`."
  type        = string
  default     = null
}

variable "auth_issuer" {
  description = "Required `iss` claim, or null."
  type        = string
  default     = null
}

variable "auth_audience" {
  description = "Required `aud` claim, or null."
  type        = string
  default     = null
}

variable "max_subscriptions_per_connection" {
  description = "Most subscriptions one connection may hold (1 to 1000)."
  type        = number
  default     = 50
}

################################################################################
# Functions
################################################################################

variable "route_function_memory_size" {
  description = "Memory of the route functions and the authorizer, MB."
  type        = number
  default     = 256
}

variable "route_function_timeout" {
  description = "Timeout of the route functions and the authorizer, seconds (at most 29)."
  type        = number
  default     = 10
}

variable "fanout_function_memory_size" {
  description = "Memory of the fan-out function, MB."
  type        = number
  default     = 1024
}

variable "fanout_function_timeout" {
  description = "Timeout of the fan-out function, seconds; the queue's visibility timeout follows it (x6)."
  type        = number
  default     = 60
}

variable "fanout_concurrency" {
  description = "Concurrent deliveries per fan-out invocation, or null for the function's default."
  type        = number
  default     = null
}

variable "fanout_page_size" {
  description = "Connections per audience page, or null for the function's default."
  type        = number
  default     = null
}

variable "fanout_max_attempts" {
  description = "Delivery attempts per connection, or null for the function's default."
  type        = number
  default     = null
}

variable "fanout_max_retry_messages" {
  description = "Retry messages per event, or null for the function's default."
  type        = number
  default     = null
}

variable "log_level" {
  description = "Log level of every function (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT)."
  type        = string
  default     = "INFO"
}

variable "log_retention_in_days" {
  description = "Retention of every log group, days."
  type        = number
  default     = 30
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the custom metrics, or null for `<name>-<environment>`."
  type        = string
  default     = null
}

################################################################################
# Storage and delivery
################################################################################

variable "table_point_in_time_recovery" {
  description = "Enable point-in-time recovery on the connections table."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Enable deletion protection on the connections table."
  type        = bool
  default     = false
}

variable "fanout_max_receive_count" {
  description = "Receives of a fan-out message before it moves to the fan-out DLQ."
  type        = number
  default     = 5
}

variable "fanout_batch_size" {
  description = "Most fan-out messages per invocation (1 to 10000; above 10 needs a batching window)."
  type        = number
  default     = 10
}

variable "fanout_batching_window_seconds" {
  description = "Batching window of the event source mapping, seconds (0 to 300)."
  type        = number
  default     = 0
}

variable "fanout_maximum_concurrency" {
  description = "Most concurrent fan-out invocations (2 to 1000)."
  type        = number
  default     = 50
}

################################################################################
# Alarms
################################################################################

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the alarms notify, or null."
  type        = string
  default     = null
}

variable "alarm_oldest_message_age_seconds" {
  description = "Age of the oldest fan-out message that raises the backlog alarm, seconds."
  type        = number
  default     = 300
}
