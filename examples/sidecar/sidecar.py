#!/usr/bin/env python3
"""An app that runs Quire beside itself, in Python's standard library alone.

With a Quire service API key (scopes files:write, tokens, webhooks) it:
  1. listens for webhooks on a port of its own and registers that address with Quire;
  2. imports a document;
  3. mints an access token for one of its own users ("alice", who has no Quire account) and gets the host-page URL
     to put in its own <iframe>;
  4. opens that URL, as the iframe would;
  5. waits for Quire to report the save of the document (version.created), checks the webhook's signature, and
     prints it.

Each step prints one JSON line on standard output. The key comes from QUIRE_API_KEY, never from the command line
(where other users of the machine could read it).

    QUIRE_API_KEY=quire_… python3 sidecar.py --quire http://127.0.0.1:8080 --document report.docx
"""

import argparse
import hashlib
import hmac
import json
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How old a webhook's timestamp may be before it is refused as a replay.
TOLERANCE_SECONDS = 300


def say(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


class Quire:
    """Quire's JSON API, with the service API key in the Authorization header of every call."""

    def __init__(self, base_url, api_key):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def call(self, method, path, json_body=None, data=None, content_type=None):
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            # Quire says why in {"error": …}
            reason = err.read().decode("utf-8", "replace")
            raise SystemExit(f"Quire refused {method} {path}: {err.code} {reason}") from None
        return json.loads(body) if body else None


def signature_is_valid(secret, timestamp, raw_body, header):
    """Quire-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>, compared in constant time."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw_body, hashlib.sha256)
    expected = "v1=" + mac.hexdigest()
    return any(hmac.compare_digest(expected, given.strip()) for given in header.split(","))


def start_receiver(address, secret_box, received):
    """An HTTP server that checks each webhook and hands the verified ones to `received`."""
    seen = set()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ok = signature_is_valid(
                secret_box.get("secret", ""),
                self.headers.get("Quire-Webhook-Timestamp", ""),
                raw,
                self.headers.get("Quire-Webhook-Signature", ""),
            )
            if not ok:
                say("webhook", verified=False)
                self.send_response(400)
                self.end_headers()
                return
            # answer first: Quire counts a slow answer as a failure and sends again
            self.send_response(204)
            self.end_headers()
            delivery = self.headers.get("Quire-Webhook-Id", "")
            if delivery in seen:  # delivered at least once: the same delivery may come again
                return
            seen.add(delivery)
            received.put(json.loads(raw))

        def log_message(self, *args):
            pass

    host, port = address.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description="Drive Quire with a service API key.")
    parser.add_argument("--quire", required=True, help="Quire's public URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--document", required=True, help="the file to import")
    parser.add_argument("--listen", default="127.0.0.1:0", help="where to receive webhooks (host:port)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the save")
    args = parser.parse_args()
    api_key = os.environ.get("QUIRE_API_KEY")
    if not api_key:
        raise SystemExit("set QUIRE_API_KEY to a Quire API key (quire apikey create … --scope files:write,tokens,webhooks)")
    quire = Quire(args.quire, api_key)

    # 1. webhooks: the receiver first, so nothing Quire sends is missed
    secret_box = {}
    received = queue.Queue()
    server = start_receiver(args.listen, secret_box, received)
    host, port = server.server_address[:2]
    webhook = quire.call(
        "POST", "/api/webhooks", {"url": f"http://{host}:{port}/quire-webhook", "events": ["version.created"]}
    )
    secret_box["secret"] = webhook["secret"]
    say("webhook-registered", id=webhook["id"], url=webhook["url"])

    try:
        # 2. import the document
        with open(args.document, "rb") as f:
            name = urllib.parse.quote(os.path.basename(args.document))
            document = quire.call(
                "POST", f"/api/files?name={name}", data=f.read(), content_type="application/octet-stream"
            )
        say("imported", fileId=document["id"], name=document["name"])

        # 3. a token for our own user alice, who may edit; Quire shows her as "Alice Example"
        minted = quire.call(
            "POST",
            f"/api/files/{urllib.parse.quote(document['id'])}/tokens",
            {"user": {"id": "alice", "name": "Alice Example", "email": "alice@example.org"}, "role": "editor"},
        )
        say("token", userId=minted["userId"], wopiSrc=minted["wopiSrc"], hostPageUrl=minted["hostPageUrl"])

        # 4. the host page, as alice's browser would load it in our iframe
        with urllib.request.urlopen(minted["hostPageUrl"], timeout=30) as page:
            html = page.read().decode("utf-8", "replace")
            say("host-page", status=page.status, editorForm="editor_form" in html)

        # 5. wait for the save to be reported
        deadline = time.monotonic() + args.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit("no webhook for the save arrived in time")
            try:
                event = received.get(timeout=left)
            except queue.Empty:
                continue
            data = event.get("data", {})
            if event.get("type") == "version.created" and data.get("fileId") == document["id"]:
                say(
                    "webhook",
                    verified=True,
                    type=event["type"],
                    fileId=data["fileId"],
                    version=data.get("version"),
                    by=(data.get("actor") or {}).get("id"),
                )
                return
    finally:
        quire.call("DELETE", f"/api/webhooks/{urllib.parse.quote(webhook['id'])}")
        server.shutdown()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
