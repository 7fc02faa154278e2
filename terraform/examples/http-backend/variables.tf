variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "auth_jwt_secret" {
  description = "HS256 secret for connection tokens, at least 32 bytes (export TF_VAR_auth_jwt_secret)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "backend_url" {
  description = "Base URL of the fanout backend: a public https:// URL, or with `backend_vpc_link_id` the URI of the Network Load Balancer's listener."
  type        = string
}

variable "backend_vpc_link_id" {
  description = "ID of the VPC link to the backend's Network Load Balancer, or null to reach an https:// backend_url over the internet."
  type        = string
  default     = null
}

variable "backend_proof" {
  description = "The gateway's proof, 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (export TF_VAR_backend_proof)."
  type        = string
  sensitive   = true
}
