#!/usr/bin/env python3
"""Writes an API Gateway HTTP API (payload format 2.0) event for the webhook's cold-start run:
a Sinch callback signed NOW, as Sinch would sign it, so it passes the signature window (300 s).

    make-webhook-event.py --out FILE [--callback FILE] [--secret S] [--path P]

Signature: base64(HMAC-SHA256(secret, body + "." + nonce + "." + timestamp)), the secret's UTF-8
bytes as they are. The body is the callback file re-serialized compactly; the signature covers
exactly the bytes that end up in the event's `body`. Standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--callback", default=os.path.join(HERE, "webhook-callback.json"))
    parser.add_argument("--secret", default="demo-webhook-secret")
    parser.add_argument("--path", default="/demo/sms/sinchconversation/main")
    args = parser.parse_args()

    with open(args.callback, encoding="utf-8") as f:
        body = json.dumps(json.load(f), separators=(",", ":"), ensure_ascii=False)
    now = time.time()
    timestamp = str(int(now))
    nonce = uuid.uuid4().hex[:26].upper()  # Sinch sends a ULID; any unique string is signed the same way
    signed = body.encode("utf-8") + b"." + nonce.encode() + b"." + timestamp.encode()
    signature = base64.b64encode(hmac.new(args.secret.encode("utf-8"), signed, hashlib.sha256).digest()).decode()

    segments = args.path.strip("/").split("/")
    tenant, service = segments[-4], segments[-1]
    event = {
        "version": "2.0",
        "routeKey": "POST /{tenant}/sms/sinchconversation/{service}",
        "rawPath": args.path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "content-length": str(len(body.encode("utf-8"))),
            "host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "user-agent": "Sinch-Conversation-API",
            "x-forwarded-for": "203.0.113.10",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "x-sinch-webhook-signature": signature,
            "x-sinch-webhook-signature-algorithm": "HmacSHA256",
            "x-sinch-webhook-signature-nonce": nonce,
            "x-sinch-webhook-signature-timestamp": timestamp,
        },
        "pathParameters": {"tenant": tenant, "service": service},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": "POST",
                "path": args.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Sinch-Conversation-API",
            },
            "requestId": "coldstart-" + nonce.lower(),
            "routeKey": "POST /{tenant}/sms/sinchconversation/{service}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(event, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
