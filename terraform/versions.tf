terraform {
  # The module needs Terraform 1.5.7; this stack needs 1.10 for S3 state locking (use_lockfile).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: bucket, key and region come from envs/<env>.s3.tfbackend
  # (terraform init -backend-config=envs/dev.s3.tfbackend, which `make plan` and `make apply` pass).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
