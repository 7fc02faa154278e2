provider "aws" {
  region = var.region
}

# The smallest working stack: HS256 tokens, default sizes, alarms without notifications.
module "fanout" {
  source = "../../modules/fanout"

  name          = "fanout-minimal"
  artifacts_dir = "${path.root}/../../../dist"

  auth_jwt_secret = var.auth_jwt_secret
}
