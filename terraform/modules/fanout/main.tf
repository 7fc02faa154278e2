data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # One entry per directory in functions/: `make build` writes <artifacts_dir>/<key>.zip for each.
  functions = {
    authorizer = {
      description = "Verifies the token of a new WebSocket connection ($connect REQUEST authorizer)."
      memory_size = var.route_function_memory_size
      timeout     = var.route_function_timeout
    }
    connect = {
      description = "Records a new WebSocket connection ($connect)."
      memory_size = var.route_function_memory_size
      timeout     = var.route_function_timeout
    }
    default = {
      description = "Answers ping and rejects unknown frames ($default)."
      memory_size = var.route_function_memory_size
      timeout     = var.route_function_timeout
    }
    disconnect = {
      description = "Deletes a closed connection and its subscriptions ($disconnect)."
      memory_size = var.route_function_memory_size
      timeout     = var.route_function_timeout
    }
    fanout = {
      description = "Delivers the events on the fan-out queue to every subscribed connection."
      memory_size = var.fanout_function_memory_size
      timeout     = var.fanout_function_timeout
    }
    subscribe = {
      description = "Adds topic subscriptions to a connection (subscribe)."
      memory_size = var.route_function_memory_size
      timeout     = var.route_function_timeout
    }
    unsubscribe = {
      description = "Removes topic subscriptions from a connection (unsubscribe)."
      memory_size = var.route_function_memory_size
      timeout     = var.route_function_timeout
    }
  }

  # Two-way routes send the function's reply back on the socket (route response `$default`).
  routes = {
    "$connect" = {
      function = "connect"
      two_way  = false
    }
    "$disconnect" = {
      function = "disconnect"
      two_way  = false
    }
    "$default" = {
      function = "default"
      two_way  = true
    }
    subscribe = {
      function = "subscribe"
      two_way  = true
    }
    unsubscribe = {
      function = "unsubscribe"
      two_way  = true
    }
  }

  two_way_routes = { for key, route in local.routes : key => route if route.two_way }

  # The @connections API of the stage, which the fan-out function posts to. Built from the API and
  # the stage name rather than the stage resource, so that the functions do not depend on the stage.
  management_endpoint = "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.region}.${data.aws_partition.current.dns_suffix}/${var.stage_name}"

  # AWS: the visibility timeout of a Lambda event source queue must be at least 6 times the function
  # timeout (plus the batching window), or messages come back while an invocation still holds them.
  fanout_queue_visibility_timeout = 6 * var.fanout_function_timeout + var.fanout_batching_window_seconds

  common_environment = {
    NODE_OPTIONS                 = "--enable-source-maps"
    POWERTOOLS_LOG_LEVEL         = var.log_level
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
  }

  # Null values are left out, so the functions fall back to their defaults.
  function_environment = {
    authorizer = {
      AUTH_JWT_SECRET = var.auth_jwt_secret
      AUTH_JWKS_URL   = var.auth_jwks_url
      AUTH_ISSUER     = var.auth_issuer
      AUTH_AUDIENCE   = var.auth_audience
    }
    connect = {
      TABLE_NAME = aws_dynamodb_table.this.name
    }
    default = {}
    disconnect = {
      TABLE_NAME = aws_dynamodb_table.this.name
    }
    fanout = {
      TABLE_NAME                = aws_dynamodb_table.this.name
      QUEUE_URL                 = aws_sqs_queue.fanout.url
      DLQ_URL                   = aws_sqs_queue.fanout_dlq.url
      MANAGEMENT_ENDPOINT       = local.management_endpoint
      FANOUT_CONCURRENCY        = var.fanout_concurrency
      FANOUT_PAGE_SIZE          = var.fanout_page_size
      FANOUT_MAX_ATTEMPTS       = var.fanout_max_attempts
      FANOUT_MAX_RETRY_MESSAGES = var.fanout_max_retry_messages
    }
    subscribe = {
      TABLE_NAME        = aws_dynamodb_table.this.name
      MAX_SUBSCRIPTIONS = var.max_subscriptions_per_connection
    }
    unsubscribe = {
      TABLE_NAME = aws_dynamodb_table.this.name
    }
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
