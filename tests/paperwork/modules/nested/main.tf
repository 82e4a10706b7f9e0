terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
    acme = {
      source = "registry.acme.example/acme/acme"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "replica"
  region = "eu-west-1"
}

module "network" {
  source     = "./modules/network"
  cidr_block = var.cidr_block
}

module "labels" {
  source  = "cloudposse/label/null"
  version = "0.25.0"
}

module "legacy" {
  source = "git::https://example.com/infra/legacy.git?ref=v1.2.0"
}

resource "acme_certificate" "site" {}
