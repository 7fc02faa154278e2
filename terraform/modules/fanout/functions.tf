################################################################################
# Functions: one bundle, role and log group each, as functions.json lists them
################################################################################

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_in_days

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.this[each.key].arn
  filename         = "${var.artifacts_dir}/${each.key}.zip"
  source_code_hash = filebase64sha256("${var.artifacts_dir}/${each.key}.zip")
  handler          = "index.handler"
  runtime          = local.manifest.runtime
  architectures    = ["arm64"]
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout

  # Every change publishes a version; the `live` alias below is what API Gateway and the event source
  # mapping call, so a bad deploy is rolled back by moving the alias (terraform/README.md, "Roll back").
  publish = true

  environment {
    variables = {
      for key, value in merge(local.common_environment, local.function_environment[each.key]) : key => tostring(value) if value != null
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  tags = var.tags
}

# What every caller invokes: the version this apply published. `aws lambda update-alias` moves it to an
# earlier version to roll back without a deploy.
resource "aws_lambda_alias" "live" {
  for_each = local.functions

  name             = local.function_alias
  description      = "The version of ${var.name}-${each.key} that API Gateway and the event source mapping invoke"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = aws_lambda_function.this[each.key].version
}

################################################################################
# Fan-out queue → fan-out function
################################################################################

resource "aws_lambda_event_source_mapping" "fanout" {
  event_source_arn                   = aws_sqs_queue.fanout.arn
  function_name                      = aws_lambda_alias.live["fanout"].arn
  batch_size                         = local.fanout_queue.batch_size
  maximum_batching_window_in_seconds = local.fanout_queue.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = local.fanout_queue.maximum_concurrency
  }

  lifecycle {
    precondition {
      condition     = local.fanout_queue.batch_size <= 10 || local.fanout_queue.batching_window_seconds >= 1
      error_message = "A fanout_queue.batch_size above 10 needs a fanout_queue.batching_window_seconds of at least 1."
    }
  }

  # Lambda checks at creation that the function's role may read the queue.
  depends_on = [aws_iam_role_policy.this]
}
