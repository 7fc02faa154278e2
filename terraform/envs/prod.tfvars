# terraform -chdir=terraform plan -var-file=envs/prod.tfvars (or: make plan ENV=prod)
region      = "eu-west-1"
environment = "prod"

# Inputs of modules/fanout, by its variable names; what is left out takes the module's default.
fanout = {
  # Tokens come from the identity provider's key set in production.
  auth_jwks_url = "https://auth.example.com/.well-known/jwks.json"
  auth_issuer   = "https://auth.example.com/"
  auth_audience = "fanout"

  log_level             = "INFO"
  log_retention_in_days = 90

  table_point_in_time_recovery = true
  table_deletion_protection    = true

  functions = {
    fanout = {
      memory_size = 1769
    }
  }

  fanout_queue = {
    maximum_concurrency = 200
  }

  # Uncomment when the account's API Gateway CloudWatch role is managed by another stack.
  # manage_api_gateway_account = false

  # Production alarms must reach someone: plan refuses until the topic below is set.
  alarm_notifications_required = true
  # alarm_sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:platform-alarms"

  tracing_enabled = true
}
