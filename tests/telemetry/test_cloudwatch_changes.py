"""Changes: ECS and CodeDeploy deployments from moto, CloudTrail events with Stubber
(moto does not serve LookupEvents) in the shape AWS documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tools.telemetry.cloudwatch.changes import AwsChanges, event_kind, resource_names
from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.config import ChangesConfig, CloudWatchConfig
from tools.telemetry.models import TimeWindow

REGION = "ap-southeast-2"
SERVICES = ["payment", "checkout", "cart"]
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def event(
    name: str, source: str, minutes_ago: float, request: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    detail = {"eventVersion": "1.08", "eventSource": source, "eventName": name,
              "requestParameters": request, **extra}  # fmt: skip
    return {
        "EventId": f"ev-{name}-{minutes_ago}",
        "EventName": name,
        "ReadOnly": "false",
        "AccessKeyId": "ASIAEXAMPLE",
        "EventTime": NOW - timedelta(minutes=minutes_ago),
        "EventSource": source,
        "Username": "ci-bot",
        "Resources": [],
        "CloudTrailEvent": json.dumps(detail),
    }


def test_write_events_are_classified() -> None:
    cases = [
        ("ecs.amazonaws.com", "UpdateService", {"service": "p", "taskDefinition": "p:8"}, "deploy"),
        ("ecs.amazonaws.com", "UpdateService", {"service": "p", "desiredCount": 4}, "scale"),
        ("ecs.amazonaws.com", "UpdateService", {"service": "p", "networkConfiguration": {}},
         "config"),
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {}, "deploy"),
        ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", {}, "config"),
        ("ssm.amazonaws.com", "PutParameter", {}, "config"),
        ("secretsmanager.amazonaws.com", "RotateSecret", {}, "secret_rotation"),
        ("iam.amazonaws.com", "PutRolePolicy", {}, "infra"),
        ("iam.amazonaws.com", "AttachRolePolicy", {}, "infra"),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", {}, "infra"),
        ("autoscaling.amazonaws.com", "SetDesiredCapacity", {}, "scale"),
        ("logs.amazonaws.com", "CreateLogStream", {}, None),
        ("s3.amazonaws.com", "PutObject", {}, None),
    ]  # fmt: skip
    for source, name, request, kind in cases:
        assert event_kind(source, name, request) == kind, (source, name)


def test_resource_names_cut_arns() -> None:
    raw = {
        "Resources": [
            {
                "ResourceType": "AWS::ECS::Service",
                "ResourceName": "arn:aws:ecs:eu-west-1:1:service/prod/payment",
            }
        ]
    }
    assert resource_names(raw, {"roleName": "cart-task-role"}) == [
        "payment", "service/prod/payment", "cart-task-role"
    ]  # fmt: skip


@pytest.fixture
def stubbed_trail(aws_env: None) -> Any:
    clients = AwsClients(CloudWatchConfig(region=REGION, max_attempts=1))
    changes = AwsChanges(clients, ChangesConfig(naming={"map": {"pay-api": "payment"}}))  # type: ignore[arg-type]
    with Stubber(clients.client("cloudtrail")) as stub:
        yield changes, stub


def test_cloudtrail_events_become_changes(stubbed_trail: Any) -> None:
    changes, stub = stubbed_trail
    window = TimeWindow.of(NOW.timestamp() - 3600, NOW.timestamp())
    expected = {
        "LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}],
        "StartTime": window.start,
        "EndTime": window.end,
        "MaxResults": 50,
    }
    page_one = [
        event("UpdateService", "ecs.amazonaws.com", 12,
              {"cluster": "prod", "service": "pay-api",
               "taskDefinition": "arn:aws:ecs:eu-west-1:1:task-definition/pay-api:42"}),
        event("PutRolePolicy", "iam.amazonaws.com", 30, {"roleName": "cart-task-role"}),
        event("CreateLogStream", "logs.amazonaws.com", 5, {"logGroupName": "/ecs/payment"}),
    ]  # fmt: skip
    page_two = [
        event("RotateSecret", "secretsmanager.amazonaws.com", 50,
              {"secretId": "arn:aws:secretsmanager:eu-west-1:1:secret:checkout/db-AbCd"}),
        event("PutParameter", "ssm.amazonaws.com", 8, {"name": "/inventory/flags"}),
        event("UpdateService", "ecs.amazonaws.com", 3, {"service": "checkout", "desiredCount": 9},
              errorCode="AccessDenied"),
    ]  # fmt: skip
    stub.add_response("lookup_events", {"Events": page_one, "NextToken": "t2"}, expected)
    stub.add_response("lookup_events", {"Events": page_two}, expected | {"NextToken": "t2"})
    found = changes.changes(window, lambda: SERVICES)
    stub.assert_no_pending_responses()
    assert [(c.service, c.kind) for c in found] == [
        ("checkout", "secret_rotation"),
        ("cart", "infra"),
        ("payment", "deploy"),
    ]
    deploy = found[-1]
    assert deploy.to_version == "pay-api:42" and deploy.actor == "ci-bot"
    assert deploy.summary == "UpdateService on pay-api (ecs.amazonaws.com)"


def test_a_failing_source_is_skipped(stubbed_trail: Any) -> None:
    changes, stub = stubbed_trail
    stub.add_client_error("lookup_events", "AccessDeniedException", "not authorized")
    window = TimeWindow.of(NOW.timestamp() - 3600, NOW.timestamp())
    assert changes.changes(window, lambda: SERVICES) == []


# -- ECS and CodeDeploy deployments from moto -----------------------------------------


def test_ecs_and_codedeploy_deployments(moto: str, aws_env: None) -> None:
    ecs = boto3.client("ecs", endpoint_url=moto, region_name=REGION)
    ecs.create_cluster(clusterName="shop")
    family = ecs.register_task_definition(
        family="payment",
        containerDefinitions=[{"name": "app", "image": "payment:1.5.0", "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="shop", serviceName="payment", taskDefinition=family,
                       desiredCount=2)  # fmt: skip
    deploy = boto3.client("codedeploy", endpoint_url=moto, region_name=REGION)
    deploy.create_application(applicationName="shop-app")
    deploy.create_deployment_group(applicationName="shop-app", deploymentGroupName="checkout",
                                   serviceRoleArn="arn:aws:iam::123456789012:role/cd")  # fmt: skip
    deploy.create_deployment(
        applicationName="shop-app",
        deploymentGroupName="checkout",
        revision={"revisionType": "S3",
                  "s3Location": {"bucket": "b", "key": "checkout.zip", "bundleType": "zip",
                                 "eTag": "v2.4.1"}},
    )  # fmt: skip
    config = CloudWatchConfig.model_validate(
        {"region": REGION, "endpoint_url": moto, "max_attempts": 1,
         "changes": {"cloudtrail": False, "ecs_clusters": ["shop"],
                     "codedeploy_applications": ["shop-app"]}}
    )  # fmt: skip
    assert config.changes is not None
    changes = AwsChanges(AwsClients(config), config.changes)
    now = datetime.now(UTC)
    found = changes.changes(
        TimeWindow.of(now.timestamp() - 600, now.timestamp() + 60), lambda: SERVICES
    )
    by_service = {c.service: c for c in found}
    assert by_service["payment"].kind == "deploy"
    assert by_service["payment"].to_version == "payment:1"
    assert by_service["checkout"].kind == "deploy"
    assert by_service["checkout"].to_version == "v2.4.1"
    calls = changes.clients.counter.usage().calls
    assert calls["codedeploy.ListDeploymentGroups"] == 1
    assert calls["ecs.DescribeServices"] == 1
