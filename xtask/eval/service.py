"""The Redflag service as the evaluation scripts call it: one connection, a fresh access token."""

import http.client
import json
import sys
import time


# The server closes a connection left idle for 5 s (actix-web's keep-alive); one idle longer than
# this is replaced before it is used rather than found closed mid-request.
IDLE_SECONDS = 3.0


class Client:
    """Keeps one connection and a fresh access token (they last five minutes)."""

    def __init__(self, url, username, password):
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.username, self.password = username, password
        self.token, self.signed_in = None, 0.0
        self.last_used = time.monotonic()

    def call(self, method, path, body, token=True):
        headers = {"Content-Type": "application/json"}
        if token:
            if time.monotonic() - self.signed_in > 200:
                self.sign_in()
            headers["Authorization"] = f"Bearer {self.token}"
        if time.monotonic() - self.last_used > IDLE_SECONDS:
            self.connection.close()
        self.connection.request(method, path, None if body is None else json.dumps(body), headers)
        reply = self.connection.getresponse()
        payload = reply.read()
        self.last_used = time.monotonic()
        return reply.status, json.loads(payload)

    def sign_in(self):
        status, body = self.call(
            "POST", "/api/token/", {"username": self.username, "password": self.password}, token=False
        )
        if status != 200:
            sys.exit(f"eval: sign-in failed: {status} {body}")
        self.token, self.signed_in = body["access"], time.monotonic()
