"""CloudWatch (Logs, metrics), CloudTrail, ECS/CodeDeploy and X-Ray as one telemetry store."""
