provider "aws" {
  region = var.region
}

# Alarms notify this topic (and, when alarm_email is set, that mailbox after it confirms).
resource "aws_sns_topic" "alarms" {
  name = "fanout-jwks-alarms"
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Tokens signed by an identity provider (RS256/ES256), verified against its key set.
module "fanout" {
  source = "../../modules/fanout"

  name          = "fanout-jwks"
  artifacts_dir = "${path.root}/../../../dist"

  auth_jwks_url = var.jwks_url
  auth_issuer   = var.issuer
  auth_audience = var.audience

  alarms_enabled                   = true
  alarm_sns_topic_arn              = aws_sns_topic.alarms.arn
  alarm_oldest_message_age_seconds = 120

  tags = {
    Example = "jwks-alarms"
  }
}
