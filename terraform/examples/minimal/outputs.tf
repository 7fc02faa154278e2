output "websocket_url" {
  description = "URL dashboards connect to; append `?token=<JWT>`."
  value       = module.fanout.websocket_url
}

output "event_bus_name" {
  description = "Event bus to publish to."
  value       = module.fanout.event_bus_name
}

output "publisher_policy_arn" {
  description = "IAM policy that allows publishing to the bus."
  value       = module.fanout.publisher_policy_arn
}
