"""Local receivers for the alert channels: an SMTP server (aiosmtpd) and a WeCom-robot-like
HTTP server, both in the test process on 127.0.0.1, recording what reaches them."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self, on_receive=None):
        self.messages: list[email.message.EmailMessage] = []
        self.on_receive = on_receive

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        if self.on_receive:
            self.on_receive(message)
        return "250 OK"


class SmtpReceiver:
    def __init__(self, port: int | None = None, on_receive=None):
        self.mailbox = Mailbox(on_receive)
        self.port = port or _free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self):
        return self.mailbox.messages


class RobotReceiver:
    """Answers like WeCom's robot API.  ``fail_with`` (an HTTP status), ``errcode`` or
    ``delay`` (seconds before answering) change its next answers."""

    def __init__(self, port: int = 0, on_receive=None):
        self.posts: list[dict] = []  # {"key", "idempotency", "body"} as received
        self.fail_with: int | None = None
        self.errcode = 0
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                key = self.path.split("key=", 1)[-1]
                post = {"key": key, "body": body,
                        "idempotency": self.headers.get("Idempotency-Key")}
                receiver.posts.append(post)
                if on_receive:
                    on_receive(post)
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.fail_with:
                    self.send_response(receiver.fail_with)
                    self.end_headers()
                    return
                answer = json.dumps({"errcode": receiver.errcode,
                                     "errmsg": f"bad key {key}" if receiver.errcode else "ok"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def received_keys(self) -> list[str | None]:
        return [post["idempotency"] for post in self.posts]
