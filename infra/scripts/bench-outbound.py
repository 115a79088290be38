#!/usr/bin/env python3
"""`make bench`, the outbound function, black-box: one process of the release binary is one warm
container. It runs in its local mode (the local event-source shell long-polls replies.fifo on
moto, as Lambda's event source mapping would, and calls the same handler) and sends to the Sinch
simulator, behind a TCP proxy that counts the connections opened to it.

Measured over --commands text commands (default 1,000) in --conversations message groups:
- sends per second: from the first command put on the queue until the last send_result is on
  events.fifo (so it includes moto's SQS and DynamoDB latency, not AWS's);
- token requests and new TCP connections to Sinch per 1,000 sends (the simulator records every
  request, /oauth2/token included; the proxy counts accepted connections);
- that every command was sent exactly once (messages:send requests per reply);
- the process's peak resident memory (VmHWM) at the end.

Runs with the moto venv's Python (boto3 is a dependency of moto). Needs moto on
$AWS_ENDPOINT_URL and the stack's environments from `switchboard-admin local-stack --env-dir`.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import boto3

TENANT = "demo"
QUEUE_ADDRESS = "01DEMOAPP00000000000000001@whatsapp.sinchconversation.com"


class ConnectionCountingProxy:
    """Forwards TCP connections to an upstream port and counts them."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.accepted = 0
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(128)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.server.accept()
            self.accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def read_env(path):
    env = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"bench-outbound: {url} did not answer")


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outbound", required=True)
    parser.add_argument("--simulator", required=True)
    parser.add_argument("--admin", required=True)
    parser.add_argument("--env-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", default="infra/seed/demo.json")
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=50)
    args = parser.parse_args()

    env = read_env(os.path.join(args.env_dir, "OutboundFunction.env"))
    base = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "HOME")}
    logs = open(os.path.join(args.out, "outbound-bench.log"), "w")

    sim_port = free_port()
    simulator = subprocess.Popen(
        [args.simulator],
        env={**base, "SWITCHBOARD_CONFIG_TABLE": env["SWITCHBOARD_CONFIG_TABLE"],
             "SWITCHBOARD_SINCH_PORT": str(sim_port), "SWITCHBOARD_SINCH_CALLBACKS": "false",
             "RUST_LOG": "warn"},
        stdout=subprocess.DEVNULL, stderr=logs)
    proxy = ConnectionCountingProxy(sim_port)
    sinch = f"http://127.0.0.1:{proxy.port}"
    outbound = None
    try:
        wait_for(f"http://127.0.0.1:{sim_port}/_simulator/requests")
        proxy.accepted = 0  # the readiness probe went straight to the simulator, but be sure

        with open(args.seed) as f:
            seed = json.load(f)
        for tenant in seed["tenants"]:
            for service in tenant["services"]:
                service["api_base_url"] = sinch
        seed_path = os.path.join(args.out, "outbound-seed.json")
        with open(seed_path, "w") as f:
            json.dump(seed, f)
        subprocess.run([args.admin, "seed", "--file", seed_path], check=True,
                       env={**base, **env}, stdout=subprocess.DEVNULL)

        sqs = boto3.client("sqs", region_name=os.environ.get("AWS_REGION", "us-east-1"))
        replies, events = env["SWITCHBOARD_LOCAL_SQS_QUEUE_URL"], env["SWITCHBOARD_EVENTS_QUEUE_URL"]
        run = uuid.uuid4().hex[:8]
        reply_ids = [f"bench-{run}-{n}" for n in range(args.commands)]

        outbound = subprocess.Popen(
            [args.outbound], env={**base, **env, "SWITCHBOARD_LOCAL_SQS_WAIT_SECS": "1", "RUST_LOG": "warn"},
            stdout=subprocess.DEVNULL, stderr=logs)
        started = time.monotonic()
        for first in range(0, args.commands, 10):
            entries = []
            for n in range(first, min(first + 10, args.commands)):
                command = {
                    "schema_version": 1, "reply_id": reply_ids[n], "tenant": TENANT,
                    "queue_address": QUEUE_ADDRESS,
                    "recipient": {"channel": "WHATSAPP", "identity": f"4670{n % args.conversations:07d}"},
                    "message": {"text_message": {"text": f"reply {n}"}},
                }
                group = f"{TENANT}/bench/{n % args.conversations}"
                entries.append({"Id": str(n), "MessageBody": json.dumps(command),
                                "MessageGroupId": group, "MessageDeduplicationId": reply_ids[n]})
            sqs.send_message_batch(QueueUrl=replies, Entries=entries)

        results = {}
        deadline = time.monotonic() + 600
        while len(results) < args.commands and time.monotonic() < deadline:
            if outbound.poll() is not None:
                sys.exit("bench-outbound: the outbound process exited; see outbound-bench.log")
            got = sqs.receive_message(QueueUrl=events, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                event = json.loads(message["Body"])
                # Only this run's: the events queue may hold others (the cold-start run's).
                if event.get("kind") == "send_result" and event.get("reply_id", "").startswith(f"bench-{run}-"):
                    results[event["reply_id"]] = event["send_result"]["outcome"]
                sqs.delete_message(QueueUrl=events, ReceiptHandle=message["ReceiptHandle"])
        elapsed = time.monotonic() - started
        peak_kib = vm_hwm_kib(outbound.pid)
        if len(results) < args.commands:
            sys.exit(f"bench-outbound: {len(results)} of {args.commands} send_results in 600 s")
        failed = [r for r, outcome in results.items() if outcome != "accepted"]
        if failed:
            sys.exit(f"bench-outbound: {len(failed)} commands failed, e.g. {failed[0]}")

        recorded = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_simulator/requests").read())
        tokens = sum(1 for r in recorded if r["path"].endswith("/oauth2/token"))
        sends = sum(1 for r in recorded if r["path"].endswith("/messages:send"))
        if sends != args.commands:
            sys.exit(f"bench-outbound: {sends} messages:send requests for {args.commands} commands")
    finally:
        for process in (outbound, simulator):
            if process is not None:
                process.kill()
                process.wait()

    per_1000 = 1000 / args.commands
    summary = {
        "commands": args.commands, "conversations": args.conversations, "seconds": elapsed,
        "sends_per_second": args.commands / elapsed, "messages_send_requests": sends,
        "token_requests": tokens, "token_requests_per_1000_sends": tokens * per_1000,
        "connections": proxy.accepted, "connections_per_1000_sends": proxy.accepted * per_1000,
        "peak_rss_mib": peak_kib / 1024 if peak_kib else None,
    }
    with open(os.path.join(args.out, "outbound.json"), "w") as f:
        json.dump(summary, f, indent=2)
    text = "\n".join([
        "## Outbound (functions/outbound, x86_64 release, one process = one warm container, local "
        "event-source shell on moto, Sinch simulator)", "",
        f"{args.commands} text commands in {args.conversations} conversations, each sent exactly once "
        f"({sends} messages:send requests), all accepted.", "",
        "| measure | value |", "|---|---:|",
        f"| sends per second (queue to send_result, moto included) | {summary['sends_per_second']:.0f} |",
        f"| token requests per 1,000 sends | {summary['token_requests_per_1000_sends']:.1f} |",
        f"| new TCP connections to Sinch per 1,000 sends | {summary['connections_per_1000_sends']:.1f} |",
        f"| peak RSS of the process | {summary['peak_rss_mib']:.1f} MiB |",
    ]) + "\n"
    with open(os.path.join(args.out, "outbound.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
