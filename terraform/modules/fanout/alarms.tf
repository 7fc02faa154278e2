################################################################################
# Alarms, optionally notifying an SNS topic
################################################################################

locals {
  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

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
  for_each = { for key, alarm in local.alarms : key => alarm if var.alarms_enabled }

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
}
