# The change an agent proposes in the gate demo: a bucket for build artifacts and
# a security group for the build runners. Applied against the moto AWS emulator.

variable "suffix" {
  type    = string
  default = "demo"
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "infraleash-artifacts-${var.suffix}"
  tags = {
    Owner      = "platform"
    CostCenter = "cc-42"
  }
}

resource "aws_security_group" "runners" {
  name        = "build-runners-${var.suffix}"
  description = "Build runners: egress only"

  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = {
    Owner      = "platform"
    CostCenter = "cc-42"
  }
}
