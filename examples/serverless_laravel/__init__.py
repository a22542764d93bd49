"""Example: the whole Laravel web stack (CloudFront, HTTP API, web and console functions, WAF)."""
