"""Construct layer: the CDK-for-Terraform constructs. No CLI framework, no AWS SDK."""
