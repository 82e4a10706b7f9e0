# Length of the generated password.
variable "password_length" {
  type    = number
  default = 32
}

variable "master_password" {
  description = "Password to use instead of a generated one"
  type        = string
  sensitive   = true
}

variable "enabled" {
  default = true
}
