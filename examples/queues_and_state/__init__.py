"""Example: SQS worker, scheduler, Redis and PostgreSQL behind RDS Proxy in an existing VPC."""
