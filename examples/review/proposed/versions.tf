# Replaced by a provider block pointing at the local AWS emulator when the demo or
# record_plan.py plans this configuration in the sandbox.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}
