output "password" {
  description = "The generated password"
  value       = random_password.db.result
  sensitive   = true
}

// ARN of the secret holding the password.
output "secret_arn" {
  value = aws_secretsmanager_secret.db.arn
}
