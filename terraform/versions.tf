terraform {
  # 1.11: S3 native state locking (use_lockfile) is generally available from 1.11, and the module's
  # write-only argument (the HS256 secret's SSM parameter) needs 1.11 too.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.8"
    }
  }

  # Partial configuration: bucket, key and region come from envs/<env>.s3.tfbackend
  # (terraform init -backend-config=envs/dev.s3.tfbackend, which `make plan` and `make apply` pass).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
