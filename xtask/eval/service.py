"""The Redflag service as the evaluation scripts call it: one connection, a fresh access token."""

import http.client
import json
import sys
import time


class Client:
    """Keeps one connection and a fresh access token (they last five minutes)."""

    def __init__(self, url, username, password):
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.username, self.password = username, password
        self.token, self.signed_in = None, 0.0

    def call(self, method, path, body, token=True):
        headers = {"Content-Type": "application/json"}
        if token:
            if time.monotonic() - self.signed_in > 200:
                self.sign_in()
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, None if body is None else json.dumps(body), headers)
        reply = self.connection.getresponse()
        payload = reply.read()
        return reply.status, json.loads(payload)

    def sign_in(self):
        status, body = self.call(
            "POST", "/api/token/", {"username": self.username, "password": self.password}, token=False
        )
        if status != 200:
            sys.exit(f"eval: sign-in failed: {status} {body}")
        self.token, self.signed_in = body["access"], time.monotonic()
