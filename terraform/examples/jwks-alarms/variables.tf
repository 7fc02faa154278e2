variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "jwks_url" {
  description = "HTTPS URL of the identity provider's JSON Web Key Set."
  type        = string
}

variable "issuer" {
  description = "Required `iss` claim of the tokens."
  type        = string
}

variable "audience" {
  description = "Required `aud` claim of the tokens."
  type        = string
  default     = "fanout"
}

variable "alarm_email" {
  description = "Mailbox subscribed to the alarm topic, or null."
  type        = string
  default     = null
}
