output "websocket_url" {
  description = "URL dashboards connect to; append `?token=<JWT>`."
  value       = module.fanout.websocket_url
}

output "event_bus_name" {
  description = "Event bus to publish to."
  value       = module.fanout.event_bus_name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_arns" {
  description = "The alarms, by name."
  value       = module.fanout.alarm_arns
}
