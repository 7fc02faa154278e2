output "websocket_url" {
  description = "URL dashboards connect to; append `?token=<JWT>`."
  value       = module.fanout.websocket_url
}

output "management_endpoint" {
  description = "Endpoint of the stage's @connections API."
  value       = module.fanout.management_endpoint
}

output "event_bus_name" {
  description = "Event bus services publish to (EventBusName of PutEvents)."
  value       = module.fanout.event_bus_name
}

output "event_bus_arn" {
  description = "ARN of the event bus."
  value       = module.fanout.event_bus_arn
}

output "publisher_policy_arn" {
  description = "IAM policy allowing events:PutEvents on the bus only; attach it to publishing services' roles."
  value       = module.fanout.publisher_policy_arn
}

output "fanout_queue_url" {
  description = "URL of the fan-out queue."
  value       = module.fanout.fanout_queue_url
}

output "fanout_queue_arn" {
  description = "ARN of the fan-out queue."
  value       = module.fanout.fanout_queue_arn
}

output "fanout_dlq_url" {
  description = "URL of the fan-out dead-letter queue."
  value       = module.fanout.fanout_dlq_url
}

output "fanout_dlq_arn" {
  description = "ARN of the fan-out dead-letter queue."
  value       = module.fanout.fanout_dlq_arn
}

output "events_dlq_url" {
  description = "URL of the EventBridge target's dead-letter queue."
  value       = module.fanout.events_dlq_url
}

output "events_dlq_arn" {
  description = "ARN of the EventBridge target's dead-letter queue."
  value       = module.fanout.events_dlq_arn
}

output "table_name" {
  description = "Name of the DynamoDB connections table."
  value       = module.fanout.table_name
}

output "function_names" {
  description = "Function name of each function, by function."
  value       = module.fanout.function_names
}

output "api_id" {
  description = "ID of the WebSocket API."
  value       = module.fanout.api_id
}

output "stage_name" {
  description = "Name of the WebSocket stage."
  value       = module.fanout.stage_name
}

output "access_log_group_name" {
  description = "Log group of the stage's access logs."
  value       = module.fanout.access_log_group_name
}

output "log_group_names" {
  description = "Log group of each function, by function."
  value       = module.fanout.log_group_names
}

output "alarm_arns" {
  description = "ARN of each CloudWatch alarm, by alarm."
  value       = module.fanout.alarm_arns
}

output "region" {
  description = "Region the stack is deployed in."
  value       = var.region
}

output "route_backend" {
  description = "What serves the routes: `lambda` or `http`."
  value       = module.fanout.route_backend
}

output "backend_proof_parameter_name" {
  description = "With `route_backend = \"http\"`, the SSM parameter the backend's task reads `FANOUT_BACKEND_PROOF` from."
  value       = module.fanout.backend_proof_parameter_name
}

output "backend_environment" {
  description = "With `route_backend = \"http\"`, the environment `fanout backend` runs with, besides the proof."
  value       = module.fanout.backend_environment
}

output "backend_policy_arn" {
  description = "With `route_backend = \"http\"`, the IAM policy to attach to the backend's task role."
  value       = module.fanout.backend_policy_arn
}
