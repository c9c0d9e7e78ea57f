"""The ways an alert leaves Daiban.  A channel turns a rendered message into one send and
raises ``SendFailed`` with a reason fit for the delivery log (never a secret); adding DingTalk
or an SMS gateway is one more class in ``CHANNELS``.

The idempotency key travels with every send (the email's Message-ID, an ``Idempotency-Key``
header on the robot post), so a receiver that honours it shows a retried message once.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate


class SendFailed(Exception):
    """A send that did not happen (tried again later); the message is shown to admins."""


@dataclass(frozen=True)
class Outgoing:
    key: str
    address: str  # an email address, or a robot's key
    subject: str
    text: str
    html: str


class Channel(ABC):
    name = ""

    @abstractmethod
    def configured(self, config) -> bool:
        """Whether the channel's settings let it send."""

    @abstractmethod
    def send(self, message: Outgoing, config) -> None:
        """Send one message; raise SendFailed when it did not go."""


class Email(Channel):
    """SMTP with STARTTLS, TLS or neither; plain text and HTML in one message."""

    name = "email"

    def configured(self, config) -> bool:
        return bool(config.get("MAIL_HOST"))

    def send(self, message: Outgoing, config) -> None:
        if not self.configured(config):
            raise SendFailed("email is not configured (set CRM_MAIL_HOST)")
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = formataddr(("代办 Daiban", config["MAIL_FROM"]))
        mail["To"] = message.address
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.key}@daiban>"
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        host, port = config["MAIL_HOST"], int(config["MAIL_PORT"])
        security, timeout = config["MAIL_SECURITY"], config["MAIL_TIMEOUT"]
        try:
            if security == "ssl":
                client = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(host, port, timeout=timeout)
            with client:
                if security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if config.get("MAIL_USERNAME"):
                    client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"the mail server refused the address: {exc.recipients}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(f"the mail server refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError:
            raise SendFailed("the mail server does not offer STARTTLS "
                             "(set CRM_MAIL_SECURITY)") from None
        except smtplib.SMTPException as exc:
            raise SendFailed(f"mail server error: {type(exc).__name__} {exc}"[:500]) from None
        except (OSError, ssl.SSLError) as exc:
            raise SendFailed(f"cannot reach the mail server {host}:{port}: "
                             f"{type(exc).__name__} {exc}"[:500]) from None


class WeComRobot(Channel):
    """A WeCom (企业微信) group robot: a text message posted to the webhook of its key."""

    name = "wecom"

    def configured(self, config) -> bool:
        return bool(config.get("WECOM_API_BASE"))

    def send(self, message: Outgoing, config) -> None:
        url = (config["WECOM_API_BASE"].rstrip("/") + "/cgi-bin/webhook/send?key="
               + urllib.parse.quote(message.address, safe=""))
        body = json.dumps({"msgtype": "text", "text": {"content": message.text}},
                          ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.key})
        try:
            with urllib.request.urlopen(request, timeout=config["WECOM_TIMEOUT"]) as response:
                answer = json.loads(response.read(65536) or b"{}")
        except urllib.error.HTTPError as exc:
            raise SendFailed(f"the WeCom robot answered HTTP {exc.code}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendFailed(f"cannot reach the WeCom robot: {type(reason).__name__}") from None
        except ValueError:
            raise SendFailed("the WeCom robot answered something that is not JSON") from None
        code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if code:
            # The robot's message is not echoed: it may quote the address.
            raise SendFailed(f"the WeCom robot refused the message (errcode {code})")


CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (Email(), WeComRobot())}
