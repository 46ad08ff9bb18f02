"""Changes to an AWS estate: CloudTrail write events, ECS and CodeDeploy deployments.

CloudTrail sees every change but says little about it; ECS and CodeDeploy
know their deployments (versions, who, when done). Deployments are read where
configured, and a CloudTrail event for the same deploy is then dropped. Only
events that change how a service runs are kept: deploys, config, IAM and
network (infra), secrets, scaling; the rest of CloudTrail is noise here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.config import ChangesConfig
from tools.telemetry.mapping import service_in_name
from tools.telemetry.models import Change, ChangeKind, TimeWindow, to_epoch

log = logging.getLogger(__name__)
DEDUP_S = 180.0
ECS_DESCRIBE_BATCH = 10
CODEDEPLOY_BATCH = 25

# (event source, event name pattern) -> change kind; first match wins.
EVENT_KINDS: tuple[tuple[str, str, ChangeKind], ...] = (
    ("ecs", r"CreateService|UpdateService", "deploy"),  # refined by _ecs_kind
    ("lambda", r"UpdateFunctionCode.*|UpdateAlias.*|PublishVersion.*", "deploy"),
    ("lambda", r"UpdateFunctionConfiguration.*|PutFunctionConcurrency.*", "config"),
    ("codedeploy", r"CreateDeployment", "deploy"),
    ("elasticbeanstalk", r"UpdateEnvironment", "deploy"),
    ("apprunner", r"StartDeployment|UpdateService", "deploy"),
    ("appconfig", r"StartDeployment", "config"),
    ("ssm", r"PutParameter|DeleteParameter.*", "config"),
    ("rds", r"Modify.*|Reboot.*|Failover.*", "config"),
    ("elasticache", r"Modify.*|Reboot.*", "config"),
    ("dynamodb", r"UpdateTable|UpdateTimeToLive", "config"),
    ("secretsmanager", r"RotateSecret|PutSecretValue|UpdateSecret", "secret_rotation"),
    ("iam", r"(Put|Attach|Detach|Delete)\w*Policy\w*|UpdateAssumeRolePolicy|"
     r"CreatePolicyVersion|SetDefaultPolicyVersion", "infra"),
    ("ec2", r"(Authorize|Revoke)SecurityGroup\w+|Modify\w+|"
     r"(Create|Replace|Delete)Route\w*", "infra"),
    ("elasticloadbalancing", r"Modify\w+|(Register|Deregister)Targets", "infra"),
    ("route53", r"ChangeResourceRecordSets", "infra"),
    ("cloudformation", r"UpdateStack|ExecuteChangeSet", "infra"),
    ("autoscaling", r"SetDesiredCapacity|UpdateAutoScalingGroup", "scale"),
    ("application-autoscaling", r"RegisterScalableTarget|PutScalingPolicy", "scale"),
)  # fmt: skip
_COMPILED = tuple((src, re.compile(f"^(?:{name})$"), kind) for src, name, kind in EVENT_KINDS)
# Request parameters that name the resource a change was made to.
_NAME_PARAMS = (
    "service", "serviceName", "functionName", "applicationName", "deploymentGroupName",
    "name", "secretId", "roleName", "policyArn", "dBInstanceIdentifier", "dBClusterIdentifier",
    "tableName", "environmentName", "stackName", "autoScalingGroupName", "resourceId",
    "targetGroupArn", "groupId",
)  # fmt: skip


def event_kind(source: str, name: str, request: dict[str, Any]) -> ChangeKind | None:
    """The change kind of a CloudTrail write event, or None for events that are not one."""
    short = source.removesuffix(".amazonaws.com")
    for src, pattern, kind in _COMPILED:
        if src == short and pattern.match(name):
            return _ecs_kind(request) if src == "ecs" else kind
    return None


def _ecs_kind(request: dict[str, Any]) -> ChangeKind:
    if "taskDefinition" in request or request.get("forceNewDeployment"):
        return "deploy"
    if set(request) - {"cluster", "service", "desiredCount"}:
        return "config"
    return "scale"


def resource_names(event: dict[str, Any], request: dict[str, Any]) -> list[str]:
    """Names a CloudTrail event's resources go by: each ARN as its last segment and
    as its resource part (`service/prod/payment`: payment, service/prod/payment)."""
    names = [r.get("ResourceName", "") for r in event.get("Resources", []) or []]
    names += [str(request[p]) for p in _NAME_PARAMS if isinstance(request.get(p), str)]
    out: list[str] = []
    for name in filter(None, names):
        out += [_short(name), _resource(name)] if name.startswith("arn:") else [name]
    return list(dict.fromkeys(out))


def _short(name: str) -> str:
    return re.split(r"[:/]", name)[-1] if name.startswith("arn:") else name


def _resource(arn: str) -> str:
    return arn.split(":", 5)[-1]


def task_definition(arn: str) -> str:
    """`arn:...:task-definition/payment:42` -> payment:42 (family and revision)."""
    return arn.rsplit("/", 1)[-1] if arn.startswith("arn:") else arn


class AwsChanges:
    """Changes from CloudTrail, ECS and CodeDeploy, named by service."""

    def __init__(self, clients: AwsClients, config: ChangesConfig) -> None:
        self.clients = clients
        self.config = config

    def changes(self, window: TimeWindow, known: Callable[[], list[str]]) -> list[Change]:
        """Each source on its own: one that fails (a missing permission, an application
        that was renamed) is logged and the others still count."""
        services = known()
        deployments = [
            *self._read("ECS", self._ecs, window, services),
            *self._read("CodeDeploy", self._codedeploy, window, services),
        ]
        trail = (
            self._read("CloudTrail", self._cloudtrail, window, services)
            if self.config.cloudtrail
            else []
        )
        kept = [c for c in trail if not _duplicate(c, deployments)]
        return sorted([*deployments, *kept], key=lambda c: (to_epoch(c.ts), c.id))

    @staticmethod
    def _read(
        name: str,
        source: Callable[[TimeWindow, list[str]], Iterator[Change]],
        window: TimeWindow,
        services: list[str],
    ) -> list[Change]:
        try:
            return list(source(window, services))
        except (BotoCoreError, ClientError) as error:
            log.warning("changes from %s unavailable: %s", name, error)
            return []

    def service(self, names: list[str], services: list[str]) -> str | None:
        """The first name a rule maps, else the first naming a known service."""
        for name in names:
            found = self.config.naming.match(name)
            if found:
                return found
        for name in names:
            found = service_in_name(name, services)
            if found:
                return found
        return None

    # -- CloudTrail --------------------------------------------------------------------
    def _cloudtrail(self, window: TimeWindow, services: list[str]) -> Iterator[Change]:
        client = self.clients.client("cloudtrail")
        args: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}],
            "StartTime": window.start,
            "EndTime": window.end,
            "MaxResults": 50,
        }
        for _ in range(self.config.max_pages):
            page = client.lookup_events(**args)
            for event in page.get("Events", []):
                change = self._from_event(event, services)
                if change is not None:
                    yield change
            if not page.get("NextToken"):
                return
            args["NextToken"] = page["NextToken"]

    def _from_event(self, event: dict[str, Any], services: list[str]) -> Change | None:
        detail = _json(event.get("CloudTrailEvent"))
        request = detail.get("requestParameters") or {}
        if detail.get("errorCode"):
            return None  # a refused call changed nothing
        kind = event_kind(event.get("EventSource", ""), event.get("EventName", ""), request)
        if kind is None:
            return None
        names = resource_names(event, request)
        service = self.service(names, services)
        if service is None:
            return None
        name = event.get("EventName", "")
        what = names[0] if names else service
        to_version = (
            task_definition(str(request["taskDefinition"])) if "taskDefinition" in request else None
        )
        return Change(
            id=event.get("EventId", f"{name}-{to_epoch(event['EventTime']):.0f}"),
            ts=event["EventTime"],
            service=service,
            kind=kind,
            summary=f"{name} on {what} ({event.get('EventSource', '')})",
            to_version=to_version,
            actor=event.get("Username"),
        )

    # -- ECS ---------------------------------------------------------------------------
    def _ecs(self, window: TimeWindow, services: list[str]) -> Iterator[Change]:
        if not self.config.ecs_clusters:
            return
        client = self.clients.client("ecs")
        for cluster in self.config.ecs_clusters:
            arns = [
                arn
                for page in client.get_paginator("list_services").paginate(cluster=cluster)
                for arn in page.get("serviceArns", [])
            ]
            for i in range(0, len(arns), ECS_DESCRIBE_BATCH):
                found = client.describe_services(
                    cluster=cluster, services=arns[i : i + ECS_DESCRIBE_BATCH]
                )
                for svc in found.get("services", []):
                    yield from self._ecs_deployments(svc, window, services)

    def _ecs_deployments(
        self, svc: dict[str, Any], window: TimeWindow, services: list[str]
    ) -> Iterator[Change]:
        name = svc.get("serviceName", "")
        service = self.service([name], services)
        if service is None:
            return
        deployments = sorted(svc.get("deployments", []), key=lambda d: d["createdAt"])
        for before, deployment in zip([None, *deployments], deployments, strict=False):
            created: datetime = deployment["createdAt"]
            if not window.start_s <= to_epoch(created) <= window.end_s:
                continue
            done = deployment.get("rolloutState") == "COMPLETED"
            definition = task_definition(deployment.get("taskDefinition", ""))
            yield Change(
                id=deployment["id"],
                ts=created,
                service=service,
                kind="deploy",
                summary=f"ECS deployment of {name} to {definition}"
                f" ({deployment.get('rolloutState') or deployment.get('status', '')})",
                from_version=task_definition(before["taskDefinition"]) if before else None,
                to_version=definition or None,
                done_ts=deployment.get("updatedAt") if done else None,
            )

    # -- CodeDeploy --------------------------------------------------------------------
    def _codedeploy(self, window: TimeWindow, services: list[str]) -> Iterator[Change]:
        if not self.config.codedeploy_applications:
            return
        client = self.clients.client("codedeploy")
        span = {"start": window.start, "end": window.end}
        for application in self.config.codedeploy_applications:
            ids: list[str] = []
            for group in _pages(client.list_deployment_groups, "deploymentGroups",
                                applicationName=application):  # fmt: skip
                ids += _pages(
                    client.list_deployments,
                    "deployments",
                    applicationName=application,
                    deploymentGroupName=group,
                    createTimeRange=span,
                )
            for i in range(0, len(ids), CODEDEPLOY_BATCH):
                found = client.batch_get_deployments(deploymentIds=ids[i : i + CODEDEPLOY_BATCH])
                for info in found.get("deploymentsInfo", []):
                    change = self._from_deployment(info, services)
                    if change is not None:
                        yield change

    def _from_deployment(self, info: dict[str, Any], services: list[str]) -> Change | None:
        group = info.get("deploymentGroupName", "")
        service = self.service([group, info.get("applicationName", "")], services)
        if service is None:
            return None
        revision = info.get("revision", {})
        version = (
            revision.get("s3Location", {}).get("eTag")
            or revision.get("gitHubLocation", {}).get("commitId")
            or None
        )
        return Change(
            id=info["deploymentId"],
            ts=info["createTime"],
            service=service,
            kind="deploy",
            summary=f"CodeDeploy {info.get('applicationName', '')}/{group}"
            f" ({info.get('status', '').lower()}) {info.get('description', '')}".strip(),
            to_version=version,
            actor=info.get("creator"),
            done_ts=info.get("completeTime"),
        )


def _pages(call: Callable[..., dict[str, Any]], key: str, **args: Any) -> list[str]:
    """Every item of a nextToken-paginated CodeDeploy list."""
    items: list[str] = []
    while True:
        page = call(**args)
        items += page.get(key, [])
        if not page.get("nextToken"):
            return items
        args["nextToken"] = page["nextToken"]


def _duplicate(change: Change, deployments: list[Change]) -> bool:
    return change.kind == "deploy" and any(
        d.service == change.service and abs(to_epoch(d.ts) - to_epoch(change.ts)) <= DEDUP_S
        for d in deployments
    )


def _json(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
