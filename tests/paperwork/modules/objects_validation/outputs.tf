output "bucket_arn" {
  description = "ARN of the bucket"
  value       = aws_s3_bucket.this.arn
}

output "read_policy_json" {
  description = "Policy document granting read access"
  value       = data.aws_iam_policy_document.read.json
}
