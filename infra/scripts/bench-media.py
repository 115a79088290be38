#!/usr/bin/env python3
"""`make bench`, the inbound stage (functions/media), black-box: the release binary runs under
the cold-start harness's stand-in Lambda Runtime API (`coldstart --binary`), one SQS batch per
run, against moto, as it runs in Lambda. Three measures:

1. peak memory (the child's VmHWM) while it streams one file of 10, 100 and 500 MB from a
   loopback server into S3: the point of streaming is that this stays flat;
2. AWS requests per forwarded text event when warm: every request the function sends goes
   through a counting proxy in front of moto; a batch of 1 text event and a batch of 10 of one
   conversation (one container each) are counted, and the difference over 9 is the cost of one
   more event once the container's caches are warm;
3. text events per second per container: a batch of 10 (Lambda's largest for FIFO), in 10
   conversations and in one, timed from the runtime's `next` to its answer. Against moto on
   loopback, so it measures the function plus moto's latency, not AWS's.

Why a proxy and not SDK counters: it counts what reaches the wire, retries included, without a
line of bench code in the function. Requests are classified by their X-Amz-Target (DynamoDB,
SQS, Secrets Manager) or their S3 shape (method and query).

Writes media.json and media.md into --out. Needs moto on $AWS_ENDPOINT_URL and the stage's
environment from `switchboard-admin local-stack` (--env-file). It seeds the demo tenant itself,
from infra/seed/demo.json with a 1 GiB size limit (the 500 MB file is over the default 100 MiB)
and display-name look-ups off (no Sinch here: a look-up would measure a refused connection).
"""

import argparse
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.parse
import uuid
from collections import Counter

MB = 1000 * 1000
MiB = 1024 * 1024
CHUNK = 1 * MiB
TENANT = "demo"
APP_ID = "01DEMOAPP00000000000000001"
QUEUE_ADDRESS = f"{APP_ID}@whatsapp.sinchconversation.com"


# --- a loopback file server: /blob/<bytes>.pdf, generated as it is sent ------------------------
class BlobHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    filler = bytes(range(256)) * (CHUNK // 256)

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        try:
            size = int(name.split(".", 1)[0])
        except ValueError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        head = b"%PDF-1.7\n"
        sent = 0
        while sent < size:
            chunk = (head + self.filler)[: min(CHUNK, size - sent)] if sent == 0 else self.filler[: min(CHUNK, size - sent)]
            self.wfile.write(chunk)
            sent += len(chunk)

    def log_message(self, *args):
        pass


# --- a counting proxy in front of moto ----------------------------------------------------------
def operation(method, path, headers):
    target = headers.get("X-Amz-Target")
    if target:
        service, _, op = target.partition(".")
        service = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs", "secretsmanager": "secretsmanager"}.get(service, service)
        return f"{service}:{op}"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query, keep_blank_values=True)
    if method == "POST" and "uploads" in query:
        return "s3:CreateMultipartUpload"
    if method == "POST" and "uploadId" in query:
        return "s3:CompleteMultipartUpload"
    if method == "PUT" and "partNumber" in query:
        return "s3:UploadPart"
    if method == "DELETE" and "uploadId" in query:
        return "s3:AbortMultipartUpload"
    return {"PUT": "s3:PutObject", "GET": "s3:GetObject", "HEAD": "s3:HeadObject", "DELETE": "s3:DeleteObject"}.get(method, f"?:{method}")


class CountingProxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counts = Counter()
    lock = threading.Lock()
    upstream = None  # (host, port)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def forward(self):
        body = self.body()
        with CountingProxy.lock:
            CountingProxy.counts[operation(self.command, self.path, self.headers)] += 1
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(*CountingProxy.upstream, timeout=600)
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    def log_message(self, *args):
        pass


def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


# --- events --------------------------------------------------------------------------------------
def inbound_event(text=None, media_url=None, conversation="bench-conversation"):
    event_id = uuid.uuid4().hex
    message = {
        "choice_response": None, "location": None, "raw_content": None, "quoted_message": None,
        "message_id": "01BENCH" + event_id[:19].upper(), "sender_id": "46700000000",
        "content_kind": "media_message" if media_url else "text_message",
        "text": text, "media": [],
    }
    if media_url:
        message["media"] = [{
            "caption": None, "content_type": None, "failure_reason": None, "filename": None,
            "s3_key": None, "size_bytes": None, "source_url": media_url, "status": "pending",
            "thumbnail_url": None, "url": None, "url_expires_at": None,
        }]
    return {
        "schema_version": 1, "event_id": event_id, "kind": "message", "tenant": TENANT,
        "service": "main", "app_id": APP_ID, "project_id": "00000000-0000-4000-8000-00000000demo",
        "queue_address": QUEUE_ADDRESS, "channel": "WHATSAPP", "conversation_id": conversation,
        "contact": {"id": "01BENCHCONTACT", "channel_identity": "46700000000", "display_name": "46700000000"},
        "received_at": "2026-12-01T00:00:00Z", "reply_id": None, "correlation_id": None,
        "message_metadata": None, "attached_data": {}, "processing_mode": "CONVERSATION",
        "sinch_times": {"accepted_time": "2026-12-01T00:00:00Z", "event_time": "2026-12-01T00:00:00Z"},
        "message": message,
    }


def sqs_event(events_and_groups):
    records = []
    for n, (event, group) in enumerate(events_and_groups):
        records.append({
            "messageId": str(uuid.uuid4()), "receiptHandle": f"bench-{n}",
            "body": json.dumps(event),
            "attributes": {
                "ApproximateReceiveCount": "1", "SentTimestamp": "1764547200000",
                "MessageGroupId": group, "MessageDeduplicationId": event["event_id"],
                "SequenceNumber": str(18000000000000000000 + n),
            },
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest.fifo", "awsRegion": "us-east-1",
        })
    return {"Records": records}


def run(args, env, event, label):
    """One container, one batch; returns the harness's JSON row."""
    path = os.path.join(args.out, f"media-{label}-event.json")
    with open(path, "w") as f:
        json.dump(event, f)
    result = os.path.join(args.out, f"media-{label}.json")
    command = [args.coldstart, "--binary", args.media, "--label", label, "--event", path,
               "--runs", "1", "--warmup", "0", "--timeout-secs", "900", "--json", result,
               "--expect", '"batchItemFailures":[]']
    for key, value in env.items():
        command += ["--env", f"{key}={value}"]
    if os.environ.get("SWITCHBOARD_BENCH_SHOW_OUTPUT"):
        command.append("--show-output")
    subprocess.run(command, check=True, stdout=None if os.environ.get("SWITCHBOARD_BENCH_SHOW_OUTPUT") else subprocess.DEVNULL)
    with open(result) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--coldstart", required=True)
    parser.add_argument("--media", required=True)
    parser.add_argument("--env-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--admin", required=True, help="switchboard-admin, to seed the tenant")
    parser.add_argument("--seed", default="infra/seed/demo.json")
    parser.add_argument("--sizes-mb", default="10,100,500")
    args = parser.parse_args()

    moto = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
    CountingProxy.upstream = (moto.hostname, moto.port)
    blob_port = serve(BlobHandler)
    proxy_port = serve(CountingProxy)

    env = {}
    for line in open(args.env_file):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    for key in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        if key in os.environ:
            env[key] = os.environ[key]
    with open(args.seed) as f:
        seed = json.load(f)
    for tenant in seed["tenants"]:
        if tenant["id"] == TENANT:
            tenant.setdefault("media", {}).update({"max_bytes": 1024 * MiB, "display_name_lookups": False})
    seed_path = os.path.join(args.out, "media-seed.json")
    with open(seed_path, "w") as f:
        json.dump(seed, f)
    subprocess.run([args.admin, "seed", "--file", seed_path], check=True, env={**os.environ, **env},
                   stdout=subprocess.DEVNULL)
    env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{proxy_port}"
    env["SWITCHBOARD_MEDIA_ALLOW_LOCAL"] = f"127.0.0.1:{blob_port}"
    env["RUST_LOG"] = os.environ.get("SWITCHBOARD_BENCH_RUST_LOG", "warn")

    results = {"memory": [], "calls": {}, "throughput": []}

    # 1. Peak memory per file size.
    for mb in [int(s) for s in args.sizes_mb.split(",")]:
        size = mb * MB
        CountingProxy.counts.clear()
        url = f"http://127.0.0.1:{blob_port}/blob/{size}.pdf"
        row = run(args, env, sqs_event([(inbound_event(media_url=url), "media")]), f"file-{mb}MB")
        parts = CountingProxy.counts["s3:UploadPart"] + CountingProxy.counts["s3:PutObject"]
        if parts == 0:
            sys.exit(f"bench-media: the {mb} MB file was not stored (requests: {dict(CountingProxy.counts)})")
        peak = row["samples"][0]["peak_rss_kib"] / 1024
        results["memory"].append({"file_mb": mb, "peak_rss_mib": peak, "s3_parts": parts,
                                  "seconds": row["samples"][0]["first_answer_ms"] / 1000})

    # 2. AWS requests per text event, warm: a batch of 10 minus a batch of 1, over 9.
    counted = {}
    for n in (1, 10):
        CountingProxy.counts.clear()
        # One conversation: its records run one after another, so after the first the
        # container is warm (config, credentials, names cached) for every later one.
        batch = [(inbound_event(text=f"hello {i}", conversation="calls"), "calls") for i in range(n)]
        run(args, env, sqs_event(batch), f"text-calls-{n}")
        counted[n] = Counter(CountingProxy.counts)
    marginal = {op: (counted[10][op] - counted[1][op]) / 9 for op in set(counted[10]) | set(counted[1])}
    results["calls"] = {"batch_of_1": dict(counted[1]), "batch_of_10": dict(counted[10]),
                        "per_warm_event": {op: v for op, v in sorted(marginal.items()) if v}}

    # 3. Text events per second, one container, a batch of 10, directly against moto.
    env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
    for label, groups in (("10 conversations", 10), ("1 conversation", 1)):
        batch = [(inbound_event(text=f"hello {i}", conversation=f"t{i % groups}"), f"tgroup-{i % groups}") for i in range(10)]
        row = run(args, env, sqs_event(batch), f"text-rate-{groups}")
        sample = row["samples"][0]
        busy_ms = sample["first_answer_ms"] - sample["ready_ms"]
        results["throughput"].append({"batch": label, "ms": busy_ms, "events_per_second": 10 / (busy_ms / 1000)})

    with open(os.path.join(args.out, "media.json"), "w") as f:
        json.dump(results, f, indent=2)
    lines = ["## Inbound stage (functions/media, x86_64 release, under the stand-in runtime, against moto)", "",
             "| file streamed into S3 | peak RSS of the function | S3 parts | time |", "|---:|---:|---:|---:|"]
    for m in results["memory"]:
        lines.append(f'| {m["file_mb"]} MB | {m["peak_rss_mib"]:.1f} MiB | {m["s3_parts"]} | {m["seconds"]:.1f} s |')
    per_event = results["calls"]["per_warm_event"]
    lines += ["", f"AWS requests per forwarded text event, warm ((batch of 10 - batch of 1) / 9): "
              f"{sum(per_event.values()):.1f} ({', '.join(f'{op} {v:.1f}' for op, v in per_event.items())})",
              f"Batch of 1, cold container: {dict(sorted(counted[1].items()))}", "",
              "| batch of 10 text events | time in the handler | events/s |", "|---|---:|---:|"]
    for t in results["throughput"]:
        lines.append(f'| {t["batch"]} | {t["ms"]:.1f} ms | {t["events_per_second"]:.0f} |')
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "media.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
