variable "cidr_block" {
  description = "CIDR of the VPC"
  type        = string
  default     = "10.0.0.0/16"
}
