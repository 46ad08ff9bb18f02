"""What alert intake raises instead of a traceback.

The HTTP layer turns `AlertParseError` into a 400 the sender can act on, so the
message always names the source, the field path and the problem.
`SnsSubscriptionConfirmation` is not an error: SNS asks the endpoint to confirm
a subscription before it delivers alarms, and only the HTTP layer may do that.
"""

from __future__ import annotations


class AlertParseError(ValueError):
    """A payload that is not a valid alert of its source, e.g.
    `alertmanager: alerts[0].startsAt: not a timestamp: 'yesterday'`."""


class SnsSubscriptionConfirmation(Exception):
    """SNS sent `Type: SubscriptionConfirmation`: there is no alarm to parse.

    Raised rather than returned so `parse_alert` keeps one return type; the
    HTTP layer confirms by GETting `subscribe_url` once it has verified the
    message signature and that `topic_arn` is one it expects.
    """

    def __init__(self, topic_arn: str, subscribe_url: str, token: str, message_id: str) -> None:
        super().__init__(f"SNS subscription confirmation for {topic_arn}")
        self.topic_arn = topic_arn
        self.subscribe_url = subscribe_url
        self.token = token
        self.message_id = message_id
