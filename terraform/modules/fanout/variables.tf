################################################################################
# Naming and packaging
################################################################################

variable "name" {
  description = "Prefix of every resource name (API, functions, roles, queues, table, bus, alarms). Unique per account and region, e.g. `fanout-dev`."
  type        = string
  default     = "fanout"
  nullable    = false

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
  nullable    = false
}

################################################################################
# WebSocket API
################################################################################

variable "stage_name" {
  description = "Name of the API Gateway stage; it is the last path segment of the WebSocket URL and of the management endpoint."
  type        = string
  default     = "live"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1 to 128 letters, digits, hyphens or underscores."
  }
}

variable "stage_throttling_burst_limit" {
  description = "Burst limit for client messages on every route of the stage (requests). Account-level limits still apply."
  type        = number
  default     = 500
  nullable    = false

  validation {
    condition     = var.stage_throttling_burst_limit >= 0 && floor(var.stage_throttling_burst_limit) == var.stage_throttling_burst_limit
    error_message = "stage_throttling_burst_limit must be a whole number >= 0."
  }
}

variable "stage_throttling_rate_limit" {
  description = "Steady-state limit for client messages on every route of the stage (requests per second)."
  type        = number
  default     = 1000
  nullable    = false

  validation {
    condition     = var.stage_throttling_rate_limit >= 0
    error_message = "stage_throttling_rate_limit must be >= 0."
  }
}

variable "stage_detailed_metrics_enabled" {
  description = "Publish per-route CloudWatch metrics for the stage (charged as custom metrics)."
  type        = bool
  default     = false
  nullable    = false
}

variable "manage_api_gateway_account" {
  description = "Create the IAM role API Gateway needs to write the stage's access logs and register it in the account's API Gateway settings (the default, so that a fresh account works). That setting is one per account and region, and destroying this stack resets it: set this to false in every other stack of the account and region (`aws apigateway get-account` shows a `cloudwatchRoleArn` when one is set)."
  type        = bool
  default     = true
  nullable    = false
}

################################################################################
# Route backend: the route Lambdas, or HTTP integrations to `fanout backend`
################################################################################

variable "route_backend" {
  description = "What serves the routes (`$connect`, `$disconnect`, `$default`, `subscribe`, `unsubscribe`): `lambda` (the default), one function each, or `http`, API Gateway HTTP integrations (`HTTP_PROXY`) to a `fanout backend` at `backend_url`, with the connection id, the authorizer's context and the proof mapped into headers. With `http` no route function is created (nor its role, log group, alias, permission or alarm); the authorizer and the fan-out function stay Lambda. See terraform/README.md, \"Routes on your own HTTP backend\"."
  type        = string
  default     = "lambda"
  nullable    = false

  validation {
    condition     = contains(["lambda", "http"], var.route_backend)
    error_message = "route_backend must be \"lambda\" or \"http\"."
  }
}

variable "backend_url" {
  description = "Base URL of the `fanout backend` (no trailing slash; each route is `POST <backend_url>/routes/<route>`), with `route_backend = \"http\"`. Without `backend_vpc_link_id` a public `https://` URL (the proof travels in a header); with it, the URI of the VPC link's Network Load Balancer listener, e.g. `http://internal-fanout-nlb-123.elb.eu-west-1.amazonaws.com:8080`."
  type        = string
  default     = null

  validation {
    condition     = var.route_backend == "lambda" || var.backend_url != null
    error_message = "route_backend = \"http\" needs backend_url, the base URL of the fanout backend."
  }

  validation {
    condition     = var.backend_url == null ? true : can(regex("^https?://[^/?#\\s]+(/[^?#\\s]*[^/?#\\s])?$", var.backend_url))
    error_message = "backend_url must be an http(s):// URL without a query, a fragment or a trailing slash, e.g. https://backend.example.com."
  }

  validation {
    condition     = var.backend_url == null || var.backend_vpc_link_id != null ? true : startswith(var.backend_url, "https://")
    error_message = "backend_url must be https:// unless the integrations go through a VPC link (backend_vpc_link_id): the gateway's proof travels in a header."
  }
}

variable "backend_vpc_link_id" {
  description = "ID of a VPC link (API Gateway REST API VPC link, to a Network Load Balancer) the HTTP integrations go through (`connection_type = \"VPC_LINK\"`), so that the backend needs no public address; null (the default) sends them over the internet to an https:// `backend_url`."
  type        = string
  default     = null

  validation {
    condition     = var.backend_vpc_link_id == null ? true : can(regex("^[a-z0-9]{1,32}$", var.backend_vpc_link_id))
    error_message = "backend_vpc_link_id must be the ID of a VPC link (lowercase letters and digits, e.g. abc123)."
  }
}

variable "backend_integration_timeout_ms" {
  description = "How long API Gateway waits for the backend's answer on each route, milliseconds: 50 to 29000, API Gateway's integration limit (\"Amazon API Gateway quotas for configuring and running a WebSocket API\"). Give the backend the same value as `FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS` (the `backend_environment` output carries it)."
  type        = number
  default     = 29000
  nullable    = false

  validation {
    condition     = var.backend_integration_timeout_ms >= 50 && var.backend_integration_timeout_ms <= 29000 && floor(var.backend_integration_timeout_ms) == var.backend_integration_timeout_ms
    error_message = "backend_integration_timeout_ms must be a whole number of milliseconds from 50 to 29000 (API Gateway waits at most 29 seconds for an integration)."
  }
}

variable "backend_proof" {
  description = "The gateway's proof, with `route_backend = \"http\"`: a secret of 32 to 512 characters of `A-Z a-z 0-9 . _ ~ + / = -` that every integration sends in `X-Fanout-Gateway-Proof` and the backend requires (`FANOUT_BACKEND_PROOF`). The module writes it, write-only, to the SecureString parameter it creates for the backend's task to read; but it is also a static value of the integrations' request parameters, so it is in the state and in the API's configuration (not ephemeral for that reason; see terraform/README.md, \"The backend's proof\"). Leave it null with `backend_proof_parameter_name`."
  type        = string
  default     = null
  sensitive   = true

  # backend-contract.json's proof_pattern (PROOF_PATTERN of shared/backend/contract.ts); policy.test.ts
  # holds the two equal.
  validation {
    condition     = var.backend_proof == null ? true : can(regex("^[A-Za-z0-9._~+/=-]{32,512}$", var.backend_proof))
    error_message = "backend_proof must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (a quote cannot go into a static request parameter)."
  }

  validation {
    condition     = var.backend_proof == null || var.backend_proof_parameter_name == null
    error_message = "Set at most one of backend_proof and backend_proof_parameter_name (a parameter you keep yourself)."
  }

  validation {
    condition     = var.route_backend == "lambda" || var.backend_proof != null || var.backend_proof_parameter_name != null
    error_message = "route_backend = \"http\" needs the gateway's proof: backend_proof, or backend_proof_parameter_name naming the SSM parameter that holds it."
  }
}

variable "backend_proof_parameter_name" {
  description = "Name of an existing SSM SecureString parameter holding the gateway's proof, e.g. `/platform/fanout/backend-proof`: the module reads it (with decryption) to write the integrations' request parameters, and the backend's task reads it too. Null (the default) creates `/<name>/backend-proof` from `backend_proof`."
  type        = string
  default     = null

  validation {
    condition     = var.backend_proof_parameter_name == null ? true : can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.backend_proof_parameter_name))
    error_message = "backend_proof_parameter_name must be an SSM parameter name: letters, digits, _ . - and / between levels."
  }
}

variable "backend_proof_version" {
  description = "Version of the proof in the parameter the module creates: raise it with a new `backend_proof` to write the new value (the parameter keeps no copy in the state to compare with). The integrations follow the value itself."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.backend_proof_version >= 1 && floor(var.backend_proof_version) == var.backend_proof_version
    error_message = "backend_proof_version must be a whole number >= 1."
  }
}

################################################################################
# Authentication (the $connect authorizer)
################################################################################

variable "auth_jwt_secret" {
  description = "HS256 secret the authorizer verifies tokens with (at least 32 bytes; during a rotation the new and the old one, one a line). The module writes it to the SecureString parameter it creates, as a write-only value: it is in neither the state nor the plan (the variable is ephemeral) nor the function's environment. Give it on every plan (Terraform keeps no copy); it is written when the parameter is created and whenever `auth_jwt_secret_version` changes. Leave it null with `auth_jwt_secret_parameter_name` or `auth_jwks_url`."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = var.auth_jwt_secret == null ? true : alltrue([for secret in split("\n", var.auth_jwt_secret) : length(secret) >= 32 if secret != ""])
    error_message = "auth_jwt_secret must be at least 32 characters long (each line, during a rotation)."
  }

  validation {
    condition     = var.auth_jwt_secret == null || (var.auth_jwks_url == null && var.auth_jwt_secret_parameter_name == null)
    error_message = "auth_jwt_secret goes with neither auth_jwks_url (RS256/ES256) nor auth_jwt_secret_parameter_name (a parameter you keep yourself)."
  }
}

variable "auth_jwt_secret_parameter_name" {
  description = "Name of an existing SSM SecureString parameter (encrypted with the AWS managed key `aws/ssm`) holding the HS256 secret, e.g. `/platform/fanout/jwt-secret`. The module then only grants the authorizer `ssm:GetParameter` on it: the secret never passes through Terraform. Null (the default, without `auth_jwks_url`) creates `/<name>/auth-jwt-secret` from `auth_jwt_secret`."
  type        = string
  default     = null

  validation {
    condition     = var.auth_jwt_secret_parameter_name == null ? true : can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.auth_jwt_secret_parameter_name))
    error_message = "auth_jwt_secret_parameter_name must be an SSM parameter name: letters, digits, _ . - and / between levels."
  }
}

variable "auth_jwt_secret_version" {
  description = "Version of the HS256 secret: raise it to write a new `auth_jwt_secret` into the parameter the module created, or to make the authorizer read an updated existing parameter (it reads it once per cold start, and a new version starts new environments). See terraform/README.md, \"Rotate the HS256 secret\"."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.auth_jwt_secret_version >= 1 && floor(var.auth_jwt_secret_version) == var.auth_jwt_secret_version
    error_message = "auth_jwt_secret_version must be a whole number >= 1."
  }
}

variable "auth_jwks_url" {
  description = "HTTPS URL of the JSON Web Key Set used to verify RS256/ES256 tokens; without it, tokens are HS256 with the secret in SSM (`auth_jwt_secret` or `auth_jwt_secret_parameter_name`)."
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

################################################################################
# Functions: functions.json holds their memory, timeout and settings; these override it
################################################################################

variable "settings" {
  description = "Settings of the functions, by environment variable name, overriding their defaults in `functions.json`, which lists every setting with its type, range, default and the functions that read it, e.g. `{ FANOUT_CONCURRENCY = 64, MAX_SUBSCRIPTIONS = 100 }`. Plan fails on a name or a value `functions.json` does not allow (see the `settings` output)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for key in keys(var.settings) : can(regex("^[A-Z][A-Z0-9_]*$", key))])
    error_message = "settings takes environment variable names (capitals, digits and underscores), e.g. { FANOUT_CONCURRENCY = 64 }."
  }
}

variable "history_retention_seconds" {
  description = "How long delivered events are kept for recovery after a reconnect, seconds (`HISTORY_RETENTION_SECONDS` of the functions that read it; each event's body once, a small pointer per stream, expiring by TTL). 0 turns history off: a subscribe with `since` then answers `recovered: false`. Set it here, not in `settings`."
  type        = number
  default     = 600
  nullable    = false

  # functions.json's range for HISTORY_RETENTION_SECONDS (policy.test.ts holds the two equal).
  validation {
    condition     = var.history_retention_seconds >= 0 && var.history_retention_seconds <= 86400 && floor(var.history_retention_seconds) == var.history_retention_seconds
    error_message = "history_retention_seconds must be a whole number of seconds from 0 (no history) to 86400."
  }
}

variable "functions" {
  description = "Memory (`memory_size`, MB) and timeout (`timeout`, seconds) of any function, by function, overriding `functions.json`, e.g. `{ fanout = { memory_size = 1769 } }`. More memory also buys more CPU. API Gateway waits at most 29 seconds for the authorizer and the route functions; the fan-out queue's visibility timeout follows the fan-out function's timeout."
  type        = map(map(number))
  default     = {}
  nullable    = false

  validation {
    condition = alltrue(flatten([
      for overrides in values(var.functions) : [
        for key, value in overrides : (
          key == "memory_size" ? value >= 128 && value <= 10240 && floor(value) == value :
          key == "timeout" ? value >= 1 && value <= 900 && floor(value) == value : false
        )
      ]
    ]))
    error_message = "functions takes memory_size (whole MB from 128 to 10240) and timeout (whole seconds from 1 to 900) for each function, e.g. { fanout = { memory_size = 1769 } }."
  }
}

################################################################################
# Logs and metrics
################################################################################

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT."
  }
}

variable "log_retention_in_days" {
  description = "Retention of every log group the module creates (functions and API access logs), days."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' custom metrics (POWERTOOLS_METRICS_NAMESPACE); the delivery-failure alarm watches it."
  type        = string
  default     = "fanout"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 letters, digits or . _ / # : - and must not start with AWS/."
  }
}

variable "tracing_enabled" {
  description = "Trace every function with AWS X-Ray (`tracing_config` mode `Active`, and the X-Ray write actions on each role); false leaves them `PassThrough`, with no X-Ray permissions. Traces are billed per trace recorded."
  type        = bool
  default     = false
  nullable    = false
}

################################################################################
# Storage
################################################################################

variable "table_point_in_time_recovery" {
  description = "Enable point-in-time recovery on the connections table."
  type        = bool
  default     = true
  nullable    = false
}

variable "table_deletion_protection" {
  description = "Enable deletion protection on the connections table."
  type        = bool
  default     = false
  nullable    = false
}

################################################################################
# Event delivery: bus, queues, event source mapping
################################################################################

variable "event_target_maximum_event_age_seconds" {
  description = "How long EventBridge keeps retrying delivery of an event to the fan-out queue before it moves it to the target DLQ, seconds."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.event_target_maximum_event_age_seconds >= 60 && var.event_target_maximum_event_age_seconds <= 86400
    error_message = "event_target_maximum_event_age_seconds must be from 60 to 86400."
  }
}

variable "event_target_maximum_retry_attempts" {
  description = "Retries of EventBridge's delivery of an event to the fan-out queue."
  type        = number
  default     = 185
  nullable    = false

  validation {
    condition     = var.event_target_maximum_retry_attempts >= 0 && var.event_target_maximum_retry_attempts <= 185
    error_message = "event_target_maximum_retry_attempts must be from 0 to 185."
  }
}

variable "fanout_queue_message_retention_seconds" {
  description = "How long the fan-out queue keeps an undelivered message, seconds."
  type        = number
  default     = 86400
  nullable    = false

  validation {
    condition     = var.fanout_queue_message_retention_seconds >= 60 && var.fanout_queue_message_retention_seconds <= 1209600
    error_message = "fanout_queue_message_retention_seconds must be from 60 to 1209600."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long both dead-letter queues keep a message, seconds (the maximum, 14 days, leaves time to redrive)."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be from 60 to 1209600."
  }
}

variable "fanout_queue" {
  description = "Settings of the fan-out queue's consumer, overriding `functions.json`: `batch_size`, `batching_window_seconds` and `maximum_concurrency` of the event source mapping, `max_receive_count` of the queue's redrive policy, e.g. `{ maximum_concurrency = 200 }`. Above a `batch_size` of 10 the batching window must be at least 1 second. The visibility timeout follows (`functions.json`: 6 times the fan-out function's timeout plus the batching window)."
  type        = map(number)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for value in values(var.fanout_queue) : floor(value) == value])
    error_message = "fanout_queue takes whole numbers, e.g. { maximum_concurrency = 200 }."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms (DLQ depth, oldest message age, fan-out errors and throttles, delivery failures, WebSocket API integration/execution/client errors, authorizer and connect errors, EventBridge failed invocations and failed dead-letter sends)."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified when an alarm fires and when it recovers, or null for alarms without actions."
  type        = string
  default     = null
}

variable "alarm_notifications_required" {
  description = "Refuse to plan alarms that notify nobody: with this true, `alarms_enabled` needs an `alarm_sns_topic_arn` (production environments set it)."
  type        = bool
  default     = false
  nullable    = false
}

variable "alarm_client_errors_per_minute" {
  description = "Client errors (4XX answered by API Gateway before the integration: refused tokens, throttled clients) per minute above which the api-client-errors alarm fires."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.alarm_client_errors_per_minute >= 0
    error_message = "alarm_client_errors_per_minute must be >= 0."
  }
}

variable "alarm_oldest_message_age_seconds" {
  description = "Age of the oldest fan-out message above which the backlog alarm fires, seconds."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.alarm_oldest_message_age_seconds >= 1
    error_message = "alarm_oldest_message_age_seconds must be at least 1."
  }
}
