################################################################################
# Where and what
################################################################################

variable "region" {
  description = "AWS region to deploy to, e.g. `eu-west-1`."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "environment" {
  description = "Environment name (`dev`, `prod`, ...); resources are named `<name>-<environment>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,11}$", var.environment))
    error_message = "environment must be 1 to 12 lowercase letters or digits, starting with a letter."
  }
}

variable "name" {
  description = "Name prefix; with the environment it names every resource (`fanout-dev-...`)."
  type        = string
  default     = "fanout"
}

variable "tags" {
  description = "Tags added to every resource, besides Application, Environment and ManagedBy."
  type        = map(string)
  default     = {}
}

variable "artifacts_dir" {
  description = "Directory holding the `<function>.zip` bundles, or null for `dist/` at the repository root (where `make build` writes them)."
  type        = string
  default     = null
}

################################################################################
# The module: every input of modules/fanout, passed through as it is
################################################################################

variable "fanout" {
  description = "Inputs of the fanout module, by its variable names (see `modules/fanout/README.md`), e.g. `{ log_level = \"DEBUG\", fanout_queue = { maximum_concurrency = 10 } }`. A left-out input takes the module's default, except `metrics_namespace` (here `<name>-<environment>`). `name`, `artifacts_dir`, `tags`, `auth_jwt_secret` and `backend_proof` come from this stack's own variables."
  type        = any
  default     = {}
  nullable    = false

  validation {
    condition     = can(keys(var.fanout))
    error_message = "fanout must be an object of the module's inputs, e.g. { log_level = \"DEBUG\" }."
  }

  validation {
    condition     = length(setintersection(try(keys(var.fanout), []), ["name", "artifacts_dir", "tags", "auth_jwt_secret", "backend_proof"])) == 0
    error_message = "Set name, artifacts_dir and tags as this stack's own variables, and the secrets as TF_VAR_auth_jwt_secret and TF_VAR_backend_proof, not inside fanout."
  }
}

variable "auth_jwt_secret" {
  description = "HS256 secret for connection tokens (at least 32 bytes), the module's `auth_jwt_secret`: written to an SSM SecureString parameter as a write-only value, so it is in neither the state nor the saved plan. Pass it as TF_VAR_auth_jwt_secret, not in a tfvars file; give it on every plan (Terraform keeps no copy); it is written when the parameter is created and whenever `fanout.auth_jwt_secret_version` changes. Leave it unset with `fanout.auth_jwks_url` or `fanout.auth_jwt_secret_parameter_name`."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "backend_proof" {
  description = "The gateway's proof for `fanout.route_backend = \"http\"` (32 to 512 characters of `A-Z a-z 0-9 . _ ~ + / = -`), the module's `backend_proof`: written write-only to the SSM parameter the backend reads, but also a static value of the integrations' request parameters, so it is in the state (terraform/README.md, \"The backend's proof\"). Pass it as TF_VAR_backend_proof, not in a tfvars file; leave it unset with the Lambda routes or with `fanout.backend_proof_parameter_name`."
  type        = string
  default     = null
  sensitive   = true
}
