provider "aws" {
  region = var.region
}

# The routes on your own `fanout backend` (HTTP integrations), the authorizer and the fan-out on
# Lambda. Through a VPC link when one is given (the backend then needs no public address), else over
# the internet to an https:// URL; either way every call carries the proof.
module "fanout" {
  source = "../../modules/fanout"

  name          = "fanout-http"
  artifacts_dir = "${path.root}/../../../dist"

  auth_jwt_secret = var.auth_jwt_secret

  route_backend                  = "http"
  backend_url                    = var.backend_url
  backend_vpc_link_id            = var.backend_vpc_link_id
  backend_integration_timeout_ms = 10000
  backend_proof                  = var.backend_proof
}
