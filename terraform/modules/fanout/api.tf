################################################################################
# WebSocket API: routes chosen by the frame's `action`, token checked on $connect
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  description                = "fanout: live notifications for dashboards over WebSocket"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"

  tags = var.tags
}

# Browsers cannot set headers on a WebSocket handshake, so the token travels in the query string.
resource "aws_apigatewayv2_authorizer" "this" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-token"
  authorizer_type  = "REQUEST"
  authorizer_uri   = aws_lambda_alias.live["authorizer"].invoke_arn
  identity_sources = ["route.request.querystring.token"]

  lifecycle {
    precondition {
      condition     = var.auth_jwks_url == null || var.auth_jwt_secret_parameter_name == null
      error_message = "Set at most one of auth_jwks_url (RS256/ES256) and auth_jwt_secret_parameter_name (HS256, the secret in that parameter)."
    }

    # API Gateway waits at most 29 seconds for an authorizer or an integration ("Amazon API Gateway
    # quotas for configuring and running a WebSocket API").
    precondition {
      condition     = local.functions.authorizer.timeout <= 29
      error_message = "The authorizer's timeout is ${local.functions.authorizer.timeout} seconds; API Gateway waits at most 29 (functions.authorizer.timeout)."
    }
  }
}

# The Lambda routes' integrations; with route_backend = "http", backend.tf's take their place. Two
# resources rather than one whose every argument depends on the choice, so that neither refers to a
# function or an alias that does not exist.
resource "aws_apigatewayv2_integration" "this" {
  for_each = local.lambda_routes

  api_id             = aws_apigatewayv2_api.this.id
  description        = "${each.key} -> ${aws_lambda_function.this[each.value.function].function_name}"
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = aws_lambda_alias.live[each.value.function].invoke_arn

  lifecycle {
    precondition {
      condition     = local.functions[each.value.function].timeout <= 29
      error_message = "The ${each.value.function} function's timeout is ${local.functions[each.value.function].timeout} seconds; API Gateway waits at most 29 for an integration (functions.${each.value.function}.timeout)."
    }
  }
}

locals {
  # Each route's integration, Lambda or HTTP: one of the two resources has an instance per route.
  integration_ids = merge(
    { for key, integration in aws_apigatewayv2_integration.this : key => integration.id },
    { for key, integration in aws_apigatewayv2_integration.backend : key => integration.id },
  )
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.routes

  api_id                              = aws_apigatewayv2_api.this.id
  route_key                           = each.key
  target                              = "integrations/${local.integration_ids[each.key]}"
  authorization_type                  = each.key == "$connect" ? "CUSTOM" : "NONE"
  authorizer_id                       = each.key == "$connect" ? aws_apigatewayv2_authorizer.this.id : null
  route_response_selection_expression = each.value.two_way ? "$default" : null
}

# A two-way route returns the function's `body` to the client as one frame.
resource "aws_apigatewayv2_route_response" "this" {
  for_each = local.two_way_routes

  api_id             = aws_apigatewayv2_api.this.id
  route_id           = aws_apigatewayv2_route.this[each.key].id
  route_response_key = "$default"
}

resource "aws_apigatewayv2_deployment" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  description = "Routes, integrations and authorizer of ${var.name}"

  triggers = {
    redeployment = sha1(jsonencode([
      aws_apigatewayv2_api.this.route_selection_expression,
      aws_apigatewayv2_authorizer.this,
      aws_apigatewayv2_integration.this,
      aws_apigatewayv2_integration.backend,
      aws_apigatewayv2_route.this,
      aws_apigatewayv2_route_response.this,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_apigatewayv2_route.this,
    aws_apigatewayv2_route_response.this,
  ]
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_in_days

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  description   = "WebSocket stage of ${var.name}"
  deployment_id = aws_apigatewayv2_deployment.this.id

  default_route_settings {
    throttling_burst_limit   = var.stage_throttling_burst_limit
    throttling_rate_limit    = var.stage_throttling_rate_limit
    detailed_metrics_enabled = var.stage_detailed_metrics_enabled
    data_trace_enabled       = false
    logging_level            = "OFF"
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      requestTime        = "$context.requestTime"
      requestTimeEpoch   = "$context.requestTimeEpoch"
      apiId              = "$context.apiId"
      stage              = "$context.stage"
      routeKey           = "$context.routeKey"
      eventType          = "$context.eventType"
      connectionId       = "$context.connectionId"
      connectedAt        = "$context.connectedAt"
      messageId          = "$context.messageId"
      sourceIp           = "$context.identity.sourceIp"
      principalId        = "$context.authorizer.principalId"
      authorizerError    = "$context.authorizer.error"
      status             = "$context.status"
      error              = "$context.error.message"
      integrationStatus  = "$context.integration.status"
      integrationError   = "$context.integration.error"
      integrationLatency = "$context.integrationLatency"
    })
  }

  tags = var.tags

  # Access logging fails to enable until the account's API Gateway CloudWatch role is set
  # ("CloudWatch Logs role ARN must be set in account settings to enable logging").
  depends_on = [aws_api_gateway_account.this]
}

################################################################################
# Account-level CloudWatch role of API Gateway (one per account and region)
################################################################################

# Created by default, so that the stage's access logs work in a fresh account. The setting is the
# account's and region's, not this stack's: with hashicorp/aws 6.x, destroying this resource resets it
# (the "Terraform AWS Provider Version 6 Upgrade Guide": reset_on_delete is gone, destroy always resets),
# so exactly one stack per account and region may manage it (terraform/README.md, "Two stacks in one
# account").

data "aws_iam_policy_document" "api_gateway_assume" {
  statement {
    sid     = "ApiGatewayAssumesTheRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  name               = "${var.name}-apigateway-cloudwatch"
  description        = "Lets API Gateway write access and execution logs to CloudWatch Logs"
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

################################################################################
# Invoke permissions, one per route and one for the authorizer, each scoped to its ARN
################################################################################

resource "aws_lambda_permission" "route" {
  for_each = local.lambda_routes

  statement_id  = "AllowApiGatewayRoute-${trimprefix(each.key, "$")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  qualifier     = aws_lambda_alias.live[each.value.function].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_stage.this.execution_arn}/${each.key}"
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["authorizer"].function_name
  qualifier     = aws_lambda_alias.live["authorizer"].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this.id}"
}
