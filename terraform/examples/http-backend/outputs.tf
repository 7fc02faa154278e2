output "websocket_url" {
  description = "URL dashboards connect to; append `?token=<JWT>`."
  value       = module.fanout.websocket_url
}

output "backend_proof_parameter_name" {
  description = "SSM parameter the backend's task reads FANOUT_BACKEND_PROOF from."
  value       = module.fanout.backend_proof_parameter_name
}

output "backend_environment" {
  description = "Environment the fanout backend runs with, besides the proof."
  value       = module.fanout.backend_environment
}

output "event_bus_name" {
  description = "Event bus to publish to."
  value       = module.fanout.event_bus_name
}

output "backend_policy_arn" {
  description = "IAM policy to attach to the backend's task role."
  value       = module.fanout.backend_policy_arn
}
