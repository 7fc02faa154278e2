# terraform -chdir=terraform plan -var-file=envs/dev.tfvars (or: make plan ENV=dev)
# The HS256 secret is not kept here: export TF_VAR_auth_jwt_secret before planning.
region      = "eu-west-1"
environment = "dev"

# Inputs of modules/fanout, by its variable names; what is left out takes the module's default.
fanout = {
  log_level             = "DEBUG"
  log_retention_in_days = 7

  table_point_in_time_recovery = false
  table_deletion_protection    = false

  fanout_queue = {
    maximum_concurrency = 10
  }
}
