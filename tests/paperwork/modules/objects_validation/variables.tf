variable "bucket_name" {
  description = "Name of the bucket (lower case, 3 to 63 characters)."
  type        = string

  validation {
    condition     = length(var.bucket_name) >= 3 && length(var.bucket_name) <= 63
    error_message = "bucket_name must be 3 to 63 characters."
  }
}

variable "retention" {
  description = <<EOT
How long objects live.

Set `expire_days` to 0 to keep objects forever; see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object_lifecycle_mgmt.html
EOT
  type = object({
    expire_days = number
    storage_class = optional(string, "STANDARD_IA")
  })
  default = {
    expire_days   = 90
    storage_class = "STANDARD_IA"
  }
}

variable "tags" {
  description = "Tags for every resource | merged with the provider's default_tags"
  type        = map(string)
  default     = {}
}

variable "allowed_principals" {
  description = "ARNs allowed to read"
  type        = list(string)
  default     = ["arn:aws:iam::123456789012:role/reader"]
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS; null means SSE-S3"
  type        = string
  default     = null
  nullable    = true
}
