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

resource "aws_iam_role_policy" "this" {
  for_each = local.functions

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

locals {
  # What the resource names in functions.json's statements stand for, for each function
  # (shared/deployment/manifest.ts lists the same names).
  policy_resources = {
    for name in keys(local.functions) : name => {
      own_log_group = "${aws_cloudwatch_log_group.lambda[name].arn}:*"
      table         = aws_dynamodb_table.this.arn
      fanout_queue  = aws_sqs_queue.fanout.arn
      fanout_dlq    = aws_sqs_queue.fanout_dlq.arn
      # Posting only: GET and DELETE on @connections are other resources, not granted.
      post_to_connections = "${aws_apigatewayv2_stage.this.execution_arn}/POST/@connections/*"
      # Null with a key set (RS256/ES256): there is no parameter, and its statement is left out.
      jwt_secret_parameter = local.jwt_secret_parameter_arn
    }
  }
}

# Each function's statements, exactly as functions.json lists them, less those whose resource does
# not exist in this configuration (the secret parameter when tokens are verified with a key set).
data "aws_iam_policy_document" "function" {
  for_each = local.functions

  dynamic "statement" {
    for_each = [for statement in each.value.policy : statement if alltrue([for resource in statement.resources : local.policy_resources[each.key][resource] != null])]

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = [for resource in statement.value.resources : local.policy_resources[each.key][resource]]
    }
  }
}

# X-Ray, when tracing is on: the Lambda service sends the segments with the function's role. X-Ray's
# write actions take no resource ("Actions, resources, and condition keys for AWS X-Ray"), hence "*".
data "aws_iam_policy_document" "tracing" {
  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "tracing" {
  # A filter, not `var.tracing_enabled ? local.functions : {}`: local.functions is an object (its
  # functions' policies differ in shape), and Terraform refuses a conditional between it and {}.
  for_each = { for name, fn in local.functions : name => fn if var.tracing_enabled }

  name   = "${var.name}-${each.key}-tracing"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.tracing.json
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
