"""The Fargate baseline: the same Laravel app on ECS Fargate behind an ALB, built to the same
standard as the serverless stack so the security and cost comparisons are honest."""
