"""CloudWatch alarm state changes, as EventBridge delivers them (or SNS)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from evals.simulator.alerts import AlertSpec
from evals.simulator.timeutil import iso

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"


def _cw_time(epoch_s: float) -> str:
    """CloudWatch's own timestamp spelling: 2026-05-11T03:12:45.123+0000."""
    return iso(epoch_s, 3).replace("Z", "+0000")


def _id(seed: int, spec: AlertSpec) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}|{spec.name}|{spec.starts_at}"))


def _datapoints(spec: AlertSpec) -> int:
    """Datapoints to alarm: two 1-minute ones, or one 5-minute one."""
    return 2 if spec.period_s < 300 else 1


def _reason(spec: AlertSpec) -> str:
    word = "greater" if "Greater" in spec.comparison else "less"
    n = _datapoints(spec)
    return (
        f"Threshold Crossed: {n} out of the last {n} datapoints [{spec.value:.4g}"
        f" ({iso(spec.starts_at - spec.period_s)})] were {word} than the threshold"
        f" ({spec.threshold:g}) (minimum {n} datapoints for OK -> ALARM transition)."
    )


def payload(spec: AlertSpec, seed: int = 0, delivery: str = "eventbridge") -> dict[str, Any]:
    """The alarm's state change; `delivery` 'sns' wraps the SNS spelling."""
    if delivery == "sns":
        return _sns(spec, seed)
    state = "ALARM" if spec.status == "firing" else "OK"
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{spec.name}"
    return {
        "version": "0",
        "id": _id(seed, spec),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": iso(spec.starts_at),
        "region": REGION,
        "resources": [arn],
        "detail": {
            "alarmName": spec.name,
            "state": {
                "value": state,
                "reason": _reason(spec),
                "reasonData": json.dumps(
                    {
                        "version": "1.0",
                        "queryDate": _cw_time(spec.starts_at),
                        "threshold": spec.threshold,
                    }
                ),
                "timestamp": _cw_time(spec.starts_at),
            },
            "previousState": {
                "value": "OK" if state == "ALARM" else "ALARM",
                "timestamp": _cw_time(spec.starts_at - 3600),
            },
            "configuration": {
                "description": spec.description or spec.summary,
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": spec.namespace,
                                "name": spec.metric,
                                "dimensions": spec.dimensions or {"Service": spec.service},
                            },
                            "period": spec.period_s,
                            "stat": "Average",
                        },
                        "returnData": True,
                    }
                ],
            },
            "alarmTags": {"service": spec.service, "severity": spec.severity},
        },
    }


def _sns(spec: AlertSpec, seed: int) -> dict[str, Any]:
    dims = spec.dimensions or {"Service": spec.service}
    alarm = {
        "AlarmName": spec.name,
        "AlarmDescription": spec.description or spec.summary,
        "AWSAccountId": ACCOUNT,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{spec.name}",
        "NewStateValue": "ALARM" if spec.status == "firing" else "OK",
        "NewStateReason": _reason(spec),
        "StateChangeTime": _cw_time(spec.starts_at),
        "Region": "Asia Pacific (Tokyo)",
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": spec.metric,
            "Namespace": spec.namespace,
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Dimensions": [{"value": v, "name": k} for k, v in dims.items()],
            "Period": spec.period_s,
            "EvaluationPeriods": _datapoints(spec),
            "ComparisonOperator": spec.comparison,
            "Threshold": spec.threshold,
        },
    }
    return {
        "Type": "Notification",
        "MessageId": _id(seed, spec),
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:incident-triage",
        "Subject": f'ALARM: "{spec.name}" in Asia Pacific (Tokyo)'[:100],
        "Message": json.dumps(alarm),
        "Timestamp": iso(spec.starts_at, 3),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": "https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe",
    }
