"""Local stand-ins for a mail server and WeCom, to watch the demo's alerts arrive:

    make alert-sinks        # SMTP on 127.0.0.1:8025, a WeCom-like robot API on 127.0.0.1:8026

then run the app pointed at them (README, "Alerts by email and WeCom").  Every message
received is printed; nothing leaves the machine."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.alert_receivers import RobotReceiver, SmtpReceiver  # noqa: E402

SMTP_PORT, ROBOT_PORT = 8025, 8026


def show_mail(message) -> None:
    body = message.get_body(("plain",))
    print(f"[email] to {message['To']}: {message['Subject']}\n{body.get_content() if body else ''}",
          flush=True)


def show_post(post: dict) -> None:
    print(f"[wecom] {post['body'].get('text', {}).get('content', post['body'])}", flush=True)


def main() -> None:
    with SmtpReceiver(SMTP_PORT, show_mail), RobotReceiver(ROBOT_PORT, show_post):
        print(f"SMTP on 127.0.0.1:{SMTP_PORT}, WeCom robot API on http://127.0.0.1:{ROBOT_PORT}"
              " (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
