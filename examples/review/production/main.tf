# "Production" as it runs today: a VPC, the legacy billing app's security group
# (its ID is hard-coded in the app's own configuration, so it must never be
# replaced), the database's security group, the orders table and the invoices bucket.

locals {
  tags = {
    Owner      = "platform"
    CostCenter = "cc-1042"
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.20.0.0/16"
  tags       = merge(local.tags, { Name = "prod" })
}

resource "aws_subnet" "app" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.20.1.0/24"
  availability_zone = "us-east-1a"
  tags              = merge(local.tags, { Name = "prod-app" })
}

# The legacy billing app refers to this group by ID (sg-...) in billing.conf.
resource "aws_security_group" "legacy_app" {
  name        = "legacy-billing"
  description = "legacy billing app; ID hard-coded in billing.conf"
  vpc_id      = aws_vpc.main.id
  tags        = merge(local.tags, { Name = "legacy-billing", Protected = "true" })
}

resource "aws_security_group" "db" {
  name        = "prod-db"
  description = "database access from the billing app"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "postgres from the billing app"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.legacy_app.id]
  }

  tags = merge(local.tags, { Name = "prod-db" })
}

resource "aws_instance" "billing" {
  ami                    = "ami-12c6146b"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.app.id
  vpc_security_group_ids = [aws_security_group.legacy_app.id]
  tags                   = merge(local.tags, { Name = "billing" })
}

resource "aws_dynamodb_table" "orders" {
  name                        = "prod-orders"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "order_id"
  deletion_protection_enabled = true

  attribute {
    name = "order_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

resource "aws_s3_bucket" "invoices" {
  bucket = "prod-invoices-archive"
  tags   = local.tags
}

resource "aws_s3_bucket_versioning" "invoices" {
  bucket = aws_s3_bucket.invoices.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "invoices" {
  bucket                  = aws_s3_bucket.invoices.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
