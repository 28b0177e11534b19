"""Notifications: one message per delivery event to the webhooks the config lists.

:mod:`~lmi_delivery.notify.event` says what happened (and how Slack and a JSON webhook are
told); :mod:`~lmi_delivery.notify.send` resolves each webhook's URL from its reference and posts.
It never fails a delivery because a webhook failed, and never shows a URL.
"""

from lmi_delivery.notify.event import Event
from lmi_delivery.notify.send import Notifier, Notify, no_notify

__all__ = ["Event", "Notifier", "Notify", "no_notify"]
