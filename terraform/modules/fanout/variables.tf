################################################################################
# Naming and packaging
################################################################################

variable "name" {
  description = "Prefix of every resource name (API, functions, roles, queues, table, bus, alarms). Unique per account and region, e.g. `fanout-dev`."
  type        = string
  default     = "fanout"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,39}$", var.name))
    error_message = "name must start with a letter and hold at most 40 letters, digits and hyphens (function and role names add up to 12 characters)."
  }
}

variable "artifacts_dir" {
  description = "Directory holding the function bundles built by `make build`: one `<function>.zip` per function (authorizer, connect, default, disconnect, fanout, subscribe, unsubscribe)."
  type        = string
}

variable "tags" {
  description = "Tags added to every taggable resource."
  type        = map(string)
  default     = {}
}

################################################################################
# WebSocket API
################################################################################

variable "stage_name" {
  description = "Name of the API Gateway stage; it is the last path segment of the WebSocket URL and of the management endpoint."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1 to 128 letters, digits, hyphens or underscores."
  }
}

variable "stage_throttling_burst_limit" {
  description = "Burst limit for client messages on every route of the stage (requests). Account-level limits still apply."
  type        = number
  default     = 500

  validation {
    condition     = var.stage_throttling_burst_limit >= 0 && floor(var.stage_throttling_burst_limit) == var.stage_throttling_burst_limit
    error_message = "stage_throttling_burst_limit must be a whole number >= 0."
  }
}

variable "stage_throttling_rate_limit" {
  description = "Steady-state limit for client messages on every route of the stage (requests per second)."
  type        = number
  default     = 1000

  validation {
    condition     = var.stage_throttling_rate_limit >= 0
    error_message = "stage_throttling_rate_limit must be >= 0."
  }
}

variable "stage_detailed_metrics_enabled" {
  description = "Publish per-route CloudWatch metrics for the stage (charged as custom metrics)."
  type        = bool
  default     = false
}

variable "manage_api_gateway_account" {
  description = "Create the IAM role API Gateway needs to write the stage's access logs and register it in the account's API Gateway settings. That setting is one per account and region: leave this false when another stack already sets it (`aws apigateway get-account` shows a `cloudwatchRoleArn`)."
  type        = bool
  default     = false
}

################################################################################
# Authentication (the $connect authorizer)
################################################################################

variable "auth_jwt_secret" {
  description = "HS256 shared secret the authorizer verifies tokens with (at least 32 bytes). Set exactly one of `auth_jwt_secret` and `auth_jwks_url`. It is stored in the authorizer's environment."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.auth_jwt_secret == null ? true : length(var.auth_jwt_secret) >= 32
    error_message = "auth_jwt_secret must be at least 32 characters long."
  }
}

variable "auth_jwks_url" {
  description = "HTTPS URL of the JSON Web Key Set used to verify RS256/ES256 tokens. Set exactly one of `auth_jwt_secret` and `auth_jwks_url`."
  type        = string
  default     = null

  validation {
    condition     = var.auth_jwks_url == null ? true : startswith(var.auth_jwks_url, "https://")
    error_message = "auth_jwks_url must be an https:// URL."
  }
}

variable "auth_issuer" {
  description = "Required `iss` claim of every token, or null to accept any issuer."
  type        = string
  default     = null
}

variable "auth_audience" {
  description = "Required `aud` claim of every token, or null to accept any audience."
  type        = string
  default     = null
}

variable "max_subscriptions_per_connection" {
  description = "Most subscriptions one connection may hold (MAX_SUBSCRIPTIONS of the subscribe function)."
  type        = number
  default     = 50

  validation {
    condition     = var.max_subscriptions_per_connection >= 1 && var.max_subscriptions_per_connection <= 1000 && floor(var.max_subscriptions_per_connection) == var.max_subscriptions_per_connection
    error_message = "max_subscriptions_per_connection must be a whole number from 1 to 1000."
  }
}

################################################################################
# Functions
################################################################################

variable "route_function_memory_size" {
  description = "Memory of the route functions (authorizer, connect, disconnect, default, subscribe, unsubscribe), MB."
  type        = number
  default     = 256

  validation {
    condition     = var.route_function_memory_size >= 128 && var.route_function_memory_size <= 10240
    error_message = "route_function_memory_size must be from 128 to 10240 MB."
  }
}

variable "route_function_timeout" {
  description = "Timeout of the route functions, seconds. API Gateway waits at most 29 seconds for an integration."
  type        = number
  default     = 10

  validation {
    condition     = var.route_function_timeout >= 1 && var.route_function_timeout <= 29
    error_message = "route_function_timeout must be from 1 to 29 seconds (the API Gateway integration limit)."
  }
}

variable "fanout_function_memory_size" {
  description = "Memory of the fan-out function, MB. More memory also buys more CPU for the PostToConnection calls."
  type        = number
  default     = 1024

  validation {
    condition     = var.fanout_function_memory_size >= 128 && var.fanout_function_memory_size <= 10240
    error_message = "fanout_function_memory_size must be from 128 to 10240 MB."
  }
}

variable "fanout_function_timeout" {
  description = "Timeout of the fan-out function, seconds. The fan-out queue's visibility timeout is 6 times this plus the batching window."
  type        = number
  default     = 60

  validation {
    condition     = var.fanout_function_timeout >= 1 && var.fanout_function_timeout <= 900
    error_message = "fanout_function_timeout must be from 1 to 900 seconds."
  }
}

variable "fanout_concurrency" {
  description = "Concurrent PostToConnection calls per fan-out invocation (FANOUT_CONCURRENCY), or null for the function's default."
  type        = number
  default     = null

  validation {
    condition     = var.fanout_concurrency == null ? true : (var.fanout_concurrency >= 1 && var.fanout_concurrency <= 1000)
    error_message = "fanout_concurrency must be from 1 to 1000."
  }
}

variable "fanout_page_size" {
  description = "Connections per audience page; larger audiences are split into page messages (FANOUT_PAGE_SIZE), or null for the function's default."
  type        = number
  default     = null

  validation {
    condition     = var.fanout_page_size == null ? true : (var.fanout_page_size >= 1 && var.fanout_page_size <= 10000)
    error_message = "fanout_page_size must be from 1 to 10000."
  }
}

variable "fanout_max_attempts" {
  description = "Delivery attempts per connection before it is reported as failed (FANOUT_MAX_ATTEMPTS), or null for the function's default."
  type        = number
  default     = null

  validation {
    condition     = var.fanout_max_attempts == null ? true : (var.fanout_max_attempts >= 1 && var.fanout_max_attempts <= 20)
    error_message = "fanout_max_attempts must be from 1 to 20."
  }
}

variable "fanout_max_retry_messages" {
  description = "Retry messages one event may re-enqueue for its failed connections (FANOUT_MAX_RETRY_MESSAGES), or null for the function's default."
  type        = number
  default     = null

  validation {
    condition     = var.fanout_max_retry_messages == null ? true : (var.fanout_max_retry_messages >= 0 && var.fanout_max_retry_messages <= 100)
    error_message = "fanout_max_retry_messages must be from 0 to 100."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT."
  }
}

variable "log_retention_in_days" {
  description = "Retention of every log group the module creates (functions and API access logs), days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' custom metrics (POWERTOOLS_METRICS_NAMESPACE); the delivery-failure alarm watches it."
  type        = string
  default     = "fanout"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 letters, digits or . _ / # : - and must not start with AWS/."
  }
}

################################################################################
# Storage
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

################################################################################
# Event delivery: bus, queues, event source mapping
################################################################################

variable "event_target_maximum_event_age_seconds" {
  description = "How long EventBridge keeps retrying delivery of an event to the fan-out queue before it moves it to the target DLQ, seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.event_target_maximum_event_age_seconds >= 60 && var.event_target_maximum_event_age_seconds <= 86400
    error_message = "event_target_maximum_event_age_seconds must be from 60 to 86400."
  }
}

variable "event_target_maximum_retry_attempts" {
  description = "Retries of EventBridge's delivery of an event to the fan-out queue."
  type        = number
  default     = 185

  validation {
    condition     = var.event_target_maximum_retry_attempts >= 0 && var.event_target_maximum_retry_attempts <= 185
    error_message = "event_target_maximum_retry_attempts must be from 0 to 185."
  }
}

variable "fanout_queue_message_retention_seconds" {
  description = "How long the fan-out queue keeps an undelivered message, seconds."
  type        = number
  default     = 86400

  validation {
    condition     = var.fanout_queue_message_retention_seconds >= 60 && var.fanout_queue_message_retention_seconds <= 1209600
    error_message = "fanout_queue_message_retention_seconds must be from 60 to 1209600."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long both dead-letter queues keep a message, seconds (the maximum, 14 days, leaves time to redrive)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be from 60 to 1209600."
  }
}

variable "fanout_max_receive_count" {
  description = "Receives of a fan-out message before SQS moves it to the fan-out DLQ (maxReceiveCount)."
  type        = number
  default     = 5

  validation {
    condition     = var.fanout_max_receive_count >= 1 && var.fanout_max_receive_count <= 1000
    error_message = "fanout_max_receive_count must be from 1 to 1000."
  }
}

variable "fanout_batch_size" {
  description = "Most fan-out messages per invocation. Above 10, `fanout_batching_window_seconds` must be at least 1."
  type        = number
  default     = 10

  validation {
    condition     = var.fanout_batch_size >= 1 && var.fanout_batch_size <= 10000
    error_message = "fanout_batch_size must be from 1 to 10000."
  }
}

variable "fanout_batching_window_seconds" {
  description = "How long the event source mapping gathers messages before it invokes the fan-out function, seconds (0 invokes as soon as messages arrive)."
  type        = number
  default     = 0

  validation {
    condition     = var.fanout_batching_window_seconds >= 0 && var.fanout_batching_window_seconds <= 300
    error_message = "fanout_batching_window_seconds must be from 0 to 300."
  }
}

variable "fanout_maximum_concurrency" {
  description = "Most concurrent fan-out invocations the SQS event source mapping starts (scaling_config.maximum_concurrency)."
  type        = number
  default     = 50

  validation {
    condition     = var.fanout_maximum_concurrency >= 2 && var.fanout_maximum_concurrency <= 1000
    error_message = "fanout_maximum_concurrency must be from 2 to 1000."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms (DLQ depth, oldest message age, fan-out errors and throttles, delivery failures)."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified when an alarm fires and when it recovers, or null for alarms without actions."
  type        = string
  default     = null
}

variable "alarm_oldest_message_age_seconds" {
  description = "Age of the oldest fan-out message above which the backlog alarm fires, seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_oldest_message_age_seconds >= 1
    error_message = "alarm_oldest_message_age_seconds must be at least 1."
  }
}
