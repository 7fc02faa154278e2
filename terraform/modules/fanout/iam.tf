################################################################################
# One role per function, each allowed exactly what its function calls
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumesTheRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.functions

  name               = "${var.name}-${each.key}"
  description        = "Role of the ${var.name}-${each.key} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = var.tags
}

locals {
  function_policies = {
    authorizer  = data.aws_iam_policy_document.authorizer.json
    connect     = data.aws_iam_policy_document.connect.json
    default     = data.aws_iam_policy_document.default.json
    disconnect  = data.aws_iam_policy_document.disconnect.json
    fanout      = data.aws_iam_policy_document.fanout.json
    subscribe   = data.aws_iam_policy_document.subscribe.json
    unsubscribe = data.aws_iam_policy_document.unsubscribe.json
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.functions

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = local.function_policies[each.key]
}

data "aws_iam_policy_document" "authorizer" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["authorizer"].arn}:*"]
  }
}

data "aws_iam_policy_document" "connect" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["connect"].arn}:*"]
  }

  statement {
    sid       = "RecordConnection"
    actions   = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
    resources = [aws_dynamodb_table.this.arn]
  }
}

data "aws_iam_policy_document" "default" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["default"].arn}:*"]
  }
}

data "aws_iam_policy_document" "disconnect" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["disconnect"].arn}:*"]
  }

  statement {
    sid       = "DeleteConnection"
    actions   = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.this.arn]
  }
}

data "aws_iam_policy_document" "subscribe" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["subscribe"].arn}:*"]
  }

  statement {
    sid = "ManageSubscriptions"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
    ]
    resources = [aws_dynamodb_table.this.arn]
  }
}

data "aws_iam_policy_document" "unsubscribe" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["unsubscribe"].arn}:*"]
  }

  statement {
    sid = "ManageSubscriptions"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
    ]
    resources = [aws_dynamodb_table.this.arn]
  }
}

data "aws_iam_policy_document" "fanout" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["fanout"].arn}:*"]
  }

  statement {
    sid       = "ResolveAudienceAndPrune"
    actions   = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid = "ConsumeFanoutQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ]
    resources = [aws_sqs_queue.fanout.arn]
  }

  statement {
    sid       = "EnqueuePagesRetriesAndDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.fanout.arn, aws_sqs_queue.fanout_dlq.arn]
  }

  # The function only posts to connections; GET and DELETE on @connections are not granted.
  statement {
    sid       = "PostToConnections"
    actions   = ["execute-api:ManageConnections"]
    resources = ["${aws_apigatewayv2_stage.this.execution_arn}/POST/@connections/*"]
  }
}

################################################################################
# Publisher policy: attach it to the role of any service that publishes events
################################################################################

data "aws_iam_policy_document" "publisher" {
  statement {
    sid       = "PutEventsOnTheFanoutBus"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.this.arn]
  }
}

resource "aws_iam_policy" "publisher" {
  name        = "${var.name}-publisher"
  description = "Allows events:PutEvents on the ${var.name} event bus, and nothing else"
  policy      = data.aws_iam_policy_document.publisher.json

  tags = var.tags
}
