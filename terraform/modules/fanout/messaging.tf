################################################################################
# Event bus → rule → fan-out queue
################################################################################

resource "aws_cloudwatch_event_bus" "this" {
  name        = var.name
  description = "Notifications for the ${var.name} dashboards: Detail names topics and/or users"

  tags = var.tags
}

# The local runtime's event bus reads this same pattern file, so both route the same events.
resource "aws_cloudwatch_event_rule" "fanout" {
  name           = "${var.name}-fanout"
  description    = "Every event that names topics or users goes to the fan-out queue"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = file("${path.module}/event-pattern.json")

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "fanout" {
  rule           = aws_cloudwatch_event_rule.fanout.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "fanout-queue"
  arn            = aws_sqs_queue.fanout.arn

  # Events EventBridge could not put on the queue after its retries land here, not on the floor.
  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }

  retry_policy {
    maximum_event_age_in_seconds = var.event_target_maximum_event_age_seconds
    maximum_retry_attempts       = var.event_target_maximum_retry_attempts
  }

  depends_on = [aws_sqs_queue_policy.fanout, aws_sqs_queue_policy.events_dlq]
}

################################################################################
# Queues
################################################################################

# Every queue takes messages up to functions.json's fanout_queue.max_message_size (1 MiB, the SQS
# maximum since August 2025; hashicorp/aws accepts it from 6.8.0, hence the provider floor). The
# provider's own default is 262,144 bytes, and an event on the bus is always larger than its PutEvents
# entry (up to 256 KB): at the provider default a near-limit event fits neither the fan-out queue nor
# the events DLQ. The fan-out DLQ takes the same size, since the function dead-letters whole records.

# Malformed and undeliverable records (sent by the function) and messages received too often (redrive).
resource "aws_sqs_queue" "fanout_dlq" {
  name                      = "${var.name}-fanout-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  max_message_size          = local.fanout_queue.max_message_size
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "fanout" {
  name                       = "${var.name}-fanout"
  visibility_timeout_seconds = local.fanout_queue_visibility_timeout
  message_retention_seconds  = var.fanout_queue_message_retention_seconds
  max_message_size           = local.fanout_queue.max_message_size
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.fanout_dlq.arn
    maxReceiveCount     = local.fanout_queue.max_receive_count
  })

  tags = var.tags
}

# Only the fan-out queue may use the fan-out DLQ, and the console's "start DLQ redrive" moves its
# messages back there.
resource "aws_sqs_queue_redrive_allow_policy" "fanout_dlq" {
  queue_url = aws_sqs_queue.fanout_dlq.url

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.fanout.arn]
  })
}

# Dead-letter queue of the EventBridge target itself.
resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  max_message_size          = local.fanout_queue.max_message_size
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

################################################################################
# Queue policies: only the fan-out rule may send, checked with aws:SourceArn
################################################################################

data "aws_iam_policy_document" "fanout_queue" {
  statement {
    sid       = "FanoutRuleSendsEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.fanout.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.fanout.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "fanout" {
  queue_url = aws_sqs_queue.fanout.url
  policy    = data.aws_iam_policy_document.fanout_queue.json
}

data "aws_iam_policy_document" "events_dlq" {
  statement {
    sid       = "FanoutRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.fanout.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.url
  policy    = data.aws_iam_policy_document.events_dlq.json
}
