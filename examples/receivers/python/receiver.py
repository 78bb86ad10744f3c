#!/usr/bin/env python3
"""A gradeflow callback receiver in Python: verifies the Standard Webhooks signature with the
`standardwebhooks` package, keeps each message once (by its webhook-id) and stores the result.

    pip install -r requirements.txt
    GRADEFLOW_WEBHOOK_SECRET=whsec_... PORT=8080 STORE_DIR=./results python3 receiver.py

Answers 204 for a message it verified (stored now, or already stored: gradeflow re-sends a message
under the same webhook-id until it gets a 2xx), 400 for one that does not verify (bad or missing
signature, timestamp more than 5 minutes off), 404 for other paths. A real platform would write the
grade into its gradebook where this one writes a file.
"""

import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

SECRET = os.environ["GRADEFLOW_WEBHOOK_SECRET"]
STORE_DIR = os.environ.get("STORE_DIR", "results")
PORT = int(os.environ.get("PORT", "8080"))
MAX_BODY = 1 << 20

webhook = Webhook(SECRET)


def stored_path(webhook_id: str) -> str:
    # gradeflow's ids are msg_<submission>_<attempt>; anything else is made file-name safe.
    return os.path.join(STORE_DIR, re.sub(r"[^A-Za-z0-9_.-]", "_", webhook_id) + ".json")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/callback":
            return self.answer(404)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            result = webhook.verify(body, headers)
        except Exception as err:  # WebhookVerificationError, or a malformed header
            self.log_message("refused %s: %s", headers.get("webhook-id", "-"), err)
            return self.answer(400)
        path = stored_path(headers["webhook-id"])
        try:
            # "x": created once; a re-sent message (same webhook-id) finds it there and is not stored again.
            with open(path, "x", encoding="utf-8") as f:
                json.dump({"webhook_id": headers["webhook-id"], "body": result}, f)
        except FileExistsError:
            self.log_message("duplicate %s", headers["webhook-id"])
        return self.answer(204)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()


def main() -> None:
    os.makedirs(STORE_DIR, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
