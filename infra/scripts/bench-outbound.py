#!/usr/bin/env python3
"""`make bench`, the outbound function, black-box, as Lambda runs it: the release binary behind the
Lambda Runtime API under the local Lambda emulator (`switchboard-admin emulate --function
OutboundFunction`), fed by the template's SQS event source mapping on the replies queue (batch
size, ReportBatchItemFailures, MaximumConcurrency pollers) and with the template's concurrency:
the emulator starts an execution environment (one process of the binary) per concurrent batch,
on demand, and keeps it warm. It sends to the Sinch simulator, behind a TCP proxy that counts
the connections opened to it.

What changed (2026-12-07): this bench used to run one process of the binary in its local mode
(a local event-source shell long-polling replies.fifo), i.e. one warm container; that mode is
gone. Now the emulator's mapping polls the queue and the function runs in as many execution
environments as the template lets it (the report says how many ran), with the template's log
level. The measures are the same; the peak memory is now that of the largest environment.

Measured over --commands text commands (default 1,000) in --conversations message groups:
- sends per second: from the first command put on the queue until the last send_result is on
  events.fifo (so it includes moto's SQS and DynamoDB latency, not AWS's);
- token requests and new TCP connections to Sinch per 1,000 sends (the simulator records every
  request, /oauth2/token included; the proxy counts accepted connections);
- that every command was sent exactly once (messages:send requests per reply);
- the peak resident memory (VmHWM) of the largest execution environment: the emulator's child
  processes whose executable is the outbound binary, sampled while the run goes on and read
  once more just before the emulator is stopped; and how many environments ran.

Runs with the moto venv's Python (boto3 is a dependency of moto). Needs moto on
$AWS_ENDPOINT_URL and the stack `switchboard-admin local-stack --prefix P --env-dir DIR` made
(its queues, found by --prefix, and its environments, in --env-dir).
"""

import argparse
import json
import os
import platform
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import boto3

FUNCTION = "OutboundFunction"
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
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # the process is gone
        pass
    return None


def children(pid):
    """The child processes of `pid` (every thread's children: tokio spawns from any of them)."""
    found = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.update(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


class Environments:
    """The emulator's execution environments of one binary: every one seen, and the largest
    VmHWM each reached (a process that is reset or stopped keeps what was read before)."""

    def __init__(self, emulator_pid, binary):
        self.emulator_pid = emulator_pid
        self.binary = os.path.realpath(binary)
        self.peak_kib = {}

    def sample(self):
        for child in children(self.emulator_pid):
            try:
                exe = os.readlink(f"/proc/{child}/exe")
            except OSError:
                continue
            # A binary rebuilt while it runs reads as "<path> (deleted)".
            if exe != self.binary and exe != f"{self.binary} (deleted)":
                continue
            hwm = vm_hwm_kib(child)
            if hwm is not None:
                self.peak_kib[child] = max(hwm, self.peak_kib.get(child, 0))
            else:
                self.peak_kib.setdefault(child, 0)


def start_emulator(args, base, logs):
    """`switchboard-admin emulate --function OutboundFunction`; returns it once it listens."""
    command = [args.admin, "emulate", "--prefix", args.prefix, "--env-dir", args.env_dir,
               "--bin-dir", args.bin_dir, "--http-listen", "127.0.0.1:0",
               "--function", FUNCTION, "--log-dir", os.path.join(args.out, "outbound-functions")]
    if args.template:
        command += ["--template", args.template]
    emulator = subprocess.Popen(command, env={**base, "RUST_LOG": "warn"}, stdout=subprocess.PIPE,
                                stderr=logs, text=True)
    lines = queue.Queue()

    def read_stdout():
        for line in emulator.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_stdout, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        if line.startswith("listening on "):
            return emulator
    emulator.kill()
    emulator.wait()
    sys.exit("bench-outbound: the emulator did not start; see outbound-bench.log")


def stop_emulator(emulator, environments):
    """SIGTERM (the emulator stops its triggers, then its environments); kill if it hangs, and
    then any environment it left behind."""
    emulator.terminate()
    try:
        emulator.wait(timeout=30)
    except subprocess.TimeoutExpired:
        emulator.kill()
        emulator.wait()
    for pid in environments.peak_kib if environments else ():
        try:
            if os.readlink(f"/proc/{pid}/exe").startswith(environments.binary):
                os.kill(pid, 9)
        except OSError:
            pass


def function_binary(admin, template):
    """The cargo binary of FUNCTION, from the template (`switchboard-admin functions`)."""
    command = [admin, "functions"] + (["--template", template] if template else [])
    for line in subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == FUNCTION:
            return fields[1]
    sys.exit(f"bench-outbound: the template has no cargo-lambda function {FUNCTION}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True, help="the functions' binaries (target/release)")
    parser.add_argument("--simulator", required=True)
    parser.add_argument("--admin", required=True)
    parser.add_argument("--prefix", required=True, help="the local stack's prefix (local-stack --prefix)")
    parser.add_argument("--env-dir", required=True, help="its environments (local-stack --env-dir)")
    parser.add_argument("--template", help="the SAM template (default: the emulator's, template.yaml)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", default="infra/seed/demo.json")
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=50)
    args = parser.parse_args()

    env = read_env(os.path.join(args.env_dir, f"{FUNCTION}.env"))
    binary = os.path.join(args.bin_dir, function_binary(args.admin, args.template))
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
    emulator = environments = None
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
        replies = sqs.get_queue_url(QueueName=f"{args.prefix}-RepliesQueue.fifo")["QueueUrl"]
        events = env["SWITCHBOARD_EVENTS_QUEUE_URL"]
        run = uuid.uuid4().hex[:8]
        reply_ids = [f"bench-{run}-{n}" for n in range(args.commands)]

        emulator = start_emulator(args, base, logs)
        environments = Environments(emulator.pid, binary)
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
            if emulator.poll() is not None:
                sys.exit("bench-outbound: the emulator exited; see outbound-bench.log")
            environments.sample()
            got = sqs.receive_message(QueueUrl=events, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                event = json.loads(message["Body"])
                # Only this run's: the events queue may hold others (the cold-start run's).
                if event.get("kind") == "send_result" and event.get("reply_id", "").startswith(f"bench-{run}-"):
                    results[event["reply_id"]] = event["send_result"]["outcome"]
                sqs.delete_message(QueueUrl=events, ReceiptHandle=message["ReceiptHandle"])
        elapsed = time.monotonic() - started
        environments.sample()  # just before stopping: VmHWM only grows
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
        if emulator is not None:
            stop_emulator(emulator, environments)
        simulator.kill()
        simulator.wait()

    ran = len(environments.peak_kib)
    peak_kib = max(environments.peak_kib.values(), default=0)
    if not peak_kib:
        sys.exit(f"bench-outbound: no execution environment of {binary} was seen under the emulator")
    pollers = None
    with open(os.path.join(args.out, "outbound-bench.log")) as f:
        for line in f:
            # The emulator's summary: "emulator: OutboundFunction: SQS RepliesQueue <url> (batch 10,
            # ..., at most 10 batches at once)"
            if line.startswith(f"emulator: {FUNCTION}: SQS") and "batches at once)" in line:
                pollers = int(line.rsplit("at most ", 1)[1].split()[0])

    per_1000 = 1000 / args.commands
    # cargo's profile directory the binaries came from: release in `make bench`.
    profile = os.path.basename(os.path.normpath(args.bin_dir))
    summary = {
        "commands": args.commands, "conversations": args.conversations, "seconds": elapsed,
        "sends_per_second": args.commands / elapsed, "messages_send_requests": sends,
        "token_requests": tokens, "token_requests_per_1000_sends": tokens * per_1000,
        "connections": proxy.accepted, "connections_per_1000_sends": proxy.accepted * per_1000,
        "peak_rss_mib": peak_kib / 1024,
        "execution_environments": ran, "mapping_pollers": pollers,
    }
    with open(os.path.join(args.out, "outbound.json"), "w") as f:
        json.dump(summary, f, indent=2)
    text = "\n".join([
        f"## Outbound (functions/outbound, {platform.machine()} {profile}, as Lambda runs it: under the "
        "Lambda emulator, the template's SQS mapping on moto, Sinch simulator)", "",
        f"{args.commands} text commands in {args.conversations} conversations, each sent exactly once "
        f"({sends} messages:send requests), all accepted; {ran} execution environments ran "
        f"(the mapping's concurrency: {pollers if pollers is not None else '?'} batches at once).", "",
        "| measure | value |", "|---|---:|",
        f"| sends per second (queue to send_result, moto included) | {summary['sends_per_second']:.0f} |",
        f"| token requests per 1,000 sends | {summary['token_requests_per_1000_sends']:.1f} |",
        f"| new TCP connections to Sinch per 1,000 sends | {summary['connections_per_1000_sends']:.1f} |",
        f"| peak RSS of the largest execution environment | {summary['peak_rss_mib']:.1f} MiB |",
        f"| execution environments that ran | {ran} |",
    ]) + "\n"
    with open(os.path.join(args.out, "outbound.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
