variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "auth_jwt_secret" {
  description = "HS256 secret for connection tokens, at least 32 bytes (export TF_VAR_auth_jwt_secret)."
  type        = string
  sensitive   = true
}
