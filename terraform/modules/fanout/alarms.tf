################################################################################
# Alarms, optionally notifying an SNS topic
################################################################################

locals {
  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  # Alarms on a route function, left out when the backend serves the routes: its failures are the
  # API's integration errors then (api-integration-errors), and the backend's own logs and metrics.
  route_function_alarms = local.http_backend ? ["connect-errors"] : []

  # API Gateway publishes WebSocket metrics by ApiId and Stage; EventBridge by rule on a custom bus.
  api_alarm_dimensions  = { ApiId = aws_apigatewayv2_api.this.id, Stage = var.stage_name }
  rule_alarm_dimensions = { EventBusName = aws_cloudwatch_event_bus.this.name, RuleName = aws_cloudwatch_event_rule.fanout.name }

  alarms = {
    fanout-dlq-not-empty = {
      description = "Fan-out records were dead-lettered (malformed, undeliverable, or received ${local.fanout_queue.max_receive_count} times). Inspect ${aws_sqs_queue.fanout_dlq.name}, fix the cause, then redrive."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.fanout_dlq.name }
      statistic   = "Maximum"
      period      = 60
      threshold   = 0
    }
    events-dlq-not-empty = {
      description = "EventBridge could not put events on the fan-out queue; they wait in ${aws_sqs_queue.events_dlq.name}."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.events_dlq.name }
      statistic   = "Maximum"
      period      = 60
      threshold   = 0
    }
    fanout-backlog = {
      description = "The oldest fan-out message is older than ${var.alarm_oldest_message_age_seconds} s: delivery is falling behind (concurrency cap, throttling or errors)."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = aws_sqs_queue.fanout.name }
      statistic   = "Maximum"
      period      = 60
      threshold   = var.alarm_oldest_message_age_seconds
    }
    fanout-errors = {
      description = "The fan-out function failed invocations."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = aws_lambda_function.this["fanout"].function_name }
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    fanout-throttles = {
      description = "Invocations of the fan-out function were throttled (account or reserved concurrency)."
      namespace   = "AWS/Lambda"
      metric_name = "Throttles"
      dimensions  = { FunctionName = aws_lambda_function.this["fanout"].function_name }
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    # The WebSocket API: integration failures (a function that throws or times out), API Gateway's own
    # execution errors, and client errors above a threshold (refused tokens, throttling, bad frames).
    api-integration-errors = {
      description = "WebSocket API integrations failed (a route function threw, timed out or answered an error)."
      namespace   = "AWS/ApiGateway"
      metric_name = "IntegrationError"
      dimensions  = local.api_alarm_dimensions
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    api-execution-errors = {
      description = "API Gateway failed calling an integration of the WebSocket API (ExecutionError)."
      namespace   = "AWS/ApiGateway"
      metric_name = "ExecutionError"
      dimensions  = local.api_alarm_dimensions
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    api-client-errors = {
      description = "More than ${var.alarm_client_errors_per_minute} client errors a minute on the WebSocket API (4XX before the integration: refused tokens, throttling)."
      namespace   = "AWS/ApiGateway"
      metric_name = "ClientError"
      dimensions  = local.api_alarm_dimensions
      statistic   = "Sum"
      period      = 60
      threshold   = var.alarm_client_errors_per_minute
    }
    # A failing authorizer or connect function refuses every new connection (a JWKS outage does that).
    authorizer-errors = {
      description = "The authorizer failed invocations: new connections are refused (is the key set reachable?)."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = aws_lambda_function.this["authorizer"].function_name }
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    connect-errors = {
      description = "The connect function failed invocations: new connections are refused."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      # try(): with route_backend = "http" there is no connect function, and route_function_alarms
      # leaves this alarm out.
      dimensions = { FunctionName = try(aws_lambda_function.this["connect"].function_name, null) }
      statistic  = "Sum"
      period     = 60
      threshold  = 0
    }
    # The rule's target: events EventBridge could not put on the queue, and dead letters it could not
    # put on the events DLQ either (those are lost).
    events-failed-invocations = {
      description = "EventBridge failed to deliver events to the fan-out queue (they go to ${aws_sqs_queue.events_dlq.name} after the retries)."
      namespace   = "AWS/Events"
      metric_name = "FailedInvocations"
      dimensions  = local.rule_alarm_dimensions
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    events-dlq-send-failures = {
      description = "EventBridge could not put undeliverable events on ${aws_sqs_queue.events_dlq.name}: they are lost."
      namespace   = "AWS/Events"
      metric_name = "InvocationsFailedToBeSentToDLQ"
      dimensions  = local.rule_alarm_dimensions
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
    delivery-failures = {
      description = "Deliveries to connections failed after every retry (custom metric Failed in ${var.metrics_namespace})."
      namespace   = var.metrics_namespace
      metric_name = "Failed"
      dimensions  = { service = "fanout" }
      statistic   = "Sum"
      period      = 60
      threshold   = 0
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = { for key, alarm in local.alarms : key => alarm if var.alarms_enabled && !contains(local.route_function_alarms, key) }

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags

  lifecycle {
    # An alarm nobody hears is a production outage found by users: environments that require a topic
    # (prod.tfvars) refuse to plan without one.
    precondition {
      condition     = !var.alarm_notifications_required || var.alarm_sns_topic_arn != null
      error_message = "alarm_notifications_required is true but alarm_sns_topic_arn is null: set the SNS topic the alarms notify (or alarms_enabled = false)."
    }
  }
}
