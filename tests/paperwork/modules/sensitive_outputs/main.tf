/**
 * # Database credentials
 *
 * Creates a random_password and stores it in Secrets Manager.
 */

resource "random_password" "db" {
  length  = var.password_length
  special = true
}

resource "aws_secretsmanager_secret" "db" {
  name_prefix = "db-"
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = random_password.db.result
}

data "aws_region" "current" {}
