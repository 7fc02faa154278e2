################################################################################
# What clients, publishers and operators need
################################################################################

output "websocket_url" {
  description = "URL dashboards connect to; append `?token=<JWT>`."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "management_endpoint" {
  description = "Endpoint of the stage's @connections API (what the fan-out function posts to)."
  value       = local.management_endpoint
}

output "event_bus_name" {
  description = "Name of the event bus services publish to (EventBusName of PutEvents)."
  value       = aws_cloudwatch_event_bus.this.name
}

output "event_bus_arn" {
  description = "ARN of the event bus."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "publisher_policy_arn" {
  description = "ARN of the IAM policy that allows events:PutEvents on the bus only; attach it to publishing services' roles."
  value       = aws_iam_policy.publisher.arn
}

################################################################################
# API
################################################################################

output "api_id" {
  description = "ID of the WebSocket API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_execution_arn" {
  description = "Execution ARN of the WebSocket API."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "Name of the WebSocket stage."
  value       = aws_apigatewayv2_stage.this.name
}

output "stage_execution_arn" {
  description = "Execution ARN of the stage; `<stage_execution_arn>/POST/@connections/*` is what posting to connections needs."
  value       = aws_apigatewayv2_stage.this.execution_arn
}

output "access_log_group_name" {
  description = "Log group of the stage's JSON access logs."
  value       = aws_cloudwatch_log_group.access.name
}

################################################################################
# Queues
################################################################################

output "fanout_queue_url" {
  description = "URL of the fan-out queue (the rule's target; the function also enqueues page and retry messages on it)."
  value       = aws_sqs_queue.fanout.url
}

output "fanout_queue_arn" {
  description = "ARN of the fan-out queue."
  value       = aws_sqs_queue.fanout.arn
}

output "fanout_dlq_url" {
  description = "URL of the fan-out dead-letter queue (malformed and undeliverable records, and messages received too often)."
  value       = aws_sqs_queue.fanout_dlq.url
}

output "fanout_dlq_arn" {
  description = "ARN of the fan-out dead-letter queue."
  value       = aws_sqs_queue.fanout_dlq.arn
}

output "events_dlq_url" {
  description = "URL of the EventBridge target's dead-letter queue (events the rule could not put on the fan-out queue)."
  value       = aws_sqs_queue.events_dlq.url
}

output "events_dlq_arn" {
  description = "ARN of the EventBridge target's dead-letter queue."
  value       = aws_sqs_queue.events_dlq.arn
}

output "event_rule_arn" {
  description = "ARN of the rule that sends the bus's events to the fan-out queue."
  value       = aws_cloudwatch_event_rule.fanout.arn
}

################################################################################
# Table, functions, alarms
################################################################################

output "table_name" {
  description = "Name of the DynamoDB connections table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the DynamoDB connections table."
  value       = aws_dynamodb_table.this.arn
}

output "function_names" {
  description = "Function name of each function, by function (authorizer, connect, default, disconnect, fanout, subscribe, unsubscribe)."
  value       = { for key, fn in aws_lambda_function.this : key => fn.function_name }
}

output "function_arns" {
  description = "Function ARN of each function, by function."
  value       = { for key, fn in aws_lambda_function.this : key => fn.arn }
}

output "function_aliases" {
  description = "ARN of the `live` alias of each function, by function: what API Gateway and the event source mapping invoke, and what a rollback moves."
  value       = { for key, alias in aws_lambda_alias.live : key => alias.arn }
}

output "function_versions" {
  description = "Version of each function this apply published (the `live` alias points at it), by function."
  value       = { for key, fn in aws_lambda_function.this : key => fn.version }
}

output "log_group_names" {
  description = "Log group of each function, by function."
  value       = { for key, group in aws_cloudwatch_log_group.lambda : key => group.name }
}

output "alarm_arns" {
  description = "ARN of each CloudWatch alarm, by alarm (empty when alarms are disabled)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}

################################################################################
# Route backend (route_backend = "http")
################################################################################

output "route_backend" {
  description = "What serves the routes: `lambda` or `http`."
  value       = var.route_backend
}

output "backend_proof_parameter_name" {
  description = "With `route_backend = \"http\"`, the SSM SecureString parameter holding the gateway's proof: give it to the backend's task as `FANOUT_BACKEND_PROOF` (ECS `secrets` with `valueFrom`), never on a command line. Null with the Lambda routes."
  value       = local.backend_proof_parameter_name
}

output "backend_environment" {
  description = "With `route_backend = \"http\"`, the environment `fanout backend` runs with, besides `FANOUT_BACKEND_PROOF`: the route functions' variables as functions.json and the overrides resolve them (table, management endpoint, limits, history) and the integration timeout. Empty with the Lambda routes."
  # Both results are maps of strings, which Terraform accepts in a conditional (unlike two objects).
  value = local.http_backend ? merge(
    merge([for name in sort(tolist(local.route_functions)) : { for key, value in local.function_environment[name] : key => tostring(value) if value != null }]...),
    {
      AWS_REGION                            = data.aws_region.current.region
      FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS = tostring(var.backend_integration_timeout_ms)
      NODE_OPTIONS                          = local.common_environment.NODE_OPTIONS
      POWERTOOLS_LOG_LEVEL                  = var.log_level
      POWERTOOLS_METRICS_NAMESPACE          = var.metrics_namespace
    },
  ) : {}
}

output "backend_policy_arn" {
  description = "With `route_backend = \"http\"`, the IAM policy to attach to the backend's task role: the route functions' statements of functions.json (table, posting to connections) and `ssm:GetParameter` on the proof. Null with the Lambda routes."
  value       = one(aws_iam_policy.backend[*].arn)
}
