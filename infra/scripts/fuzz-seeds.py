#!/usr/bin/env python3
"""Seeds the fuzz corpora (fuzz/corpus/<target>/seed-*) from the repo's JSON: the Sinch callback
fixtures (shared/tests/fixtures/callbacks) and the contract's examples (schemas/examples), plus
the saved regression inputs (fuzz/regressions/<target>/), so a fixed bug is fuzzed around too.
Called by infra/scripts/fuzz.sh before every run; rewrites only its own seed-* files, so what
the fuzzer added to a corpus stays.

The input formats are defined by the targets (fuzz/src/*.rs); in short:
- callback_parser: the body itself;
- signature_headers: flags, window (u16 LE), then signature, nonce, timestamp, algorithm,
  current secret, previous secret and body separated by newlines;
- webhook_request: flags, then `METHOD PATH\\n`, `name: value\\n` headers, an empty line, the
  body. Signed seeds set the flags that make the target sign the body with the tenant's secret
  and a fresh timestamp, so the fuzzer starts past the signature check.
"""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[2]
corpus = root / "fuzz" / "corpus"

# Flags of fuzz/src/webhook_request.rs.
SIGN, FRESH, NO_ALGORITHM, SECRET_SHIFT = 1, 1 << 1, 1 << 2, 3
QUEUE_DOWN, QUARANTINE_DOWN, CONFIG_DOWN = 1 << 5, 1 << 6, 1 << 7
# Flags of fuzz/src/signature_headers.rs: all four headers, signed, fresh, HmacSHA256.
SIGNATURE_ALL = 0b1111 | 1 << 4 | 1 << 5 | 1 << 6
NOW = 1_763_712_000


def bodies():
    sources = [root / "shared/tests/fixtures/callbacks", root / "schemas/examples"]
    for folder in sources:
        for path in sorted(folder.glob("*.json")):
            yield f"{folder.name}-{path.stem}", path.read_bytes()


def request(flags, method, path, body, headers=None):
    headers = headers if headers is not None else [
        ("content-type", "application/json"),
        ("x-sinch-webhook-signature", "c2lnbmVkIGJ5IHRoZSB0YXJnZXQ="),
        ("x-sinch-webhook-signature-nonce", "01JFUZZSEEDNONCE0000000000"),
        ("x-sinch-webhook-signature-timestamp", str(NOW)),
        ("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
    ]
    head = f"{method} {path}\n" + "".join(f"{name}: {value}\n" for name, value in headers) + "\n"
    return bytes([flags]) + head.encode() + body


def seeds():
    callbacks = list(bodies())
    for name, body in callbacks:
        yield "callback_parser", name, body
        window = (300).to_bytes(2, "little")
        fields = [b"sig", b"01JFUZZSEEDNONCE0000000000", str(NOW).encode(), b"HmacSHA256",
                  b"fuzz-secret", b"fuzz-old-secret"]
        yield "signature_headers", name, bytes([SIGNATURE_ALL]) + window + b"\n".join(fields + [body])
        signed = SIGN | FRESH
        yield "webhook_request", f"{name}-all", request(signed, "POST", "/fuzz/sms/sinchconversation/all", body)
        yield "webhook_request", f"{name}-backup", request(
            signed | 2 << SECRET_SHIFT, "POST", "/prod/fuzz/sms/sinchconversation/backup", body)
        yield "webhook_request", f"{name}-demo", request(
            signed | 3 << SECRET_SHIFT, "POST", "/demo/sms/sinchconversation/all", body)
    # The other rows of the answer table, each once.
    _, body = callbacks[0]
    yield "webhook_request", "unsigned", request(FRESH, "POST", "/fuzz/sms/sinchconversation/all", body)
    yield "webhook_request", "not-json", request(SIGN | FRESH, "POST", "/fuzz/sms/sinchconversation/main", b"\x00not json")
    yield "webhook_request", "get", request(SIGN | FRESH, "GET", "/fuzz/sms/sinchconversation/all", b"")
    yield "webhook_request", "unknown-tenant", request(SIGN | FRESH, "POST", "/nobody/sms/sinchconversation/all", body)
    yield "webhook_request", "unknown-service", request(SIGN | FRESH, "POST", "/fuzz/sms/sinchconversation/nope", body)
    yield "webhook_request", "too-large", request(SIGN | FRESH, "POST", "/fuzz/sms/sinchconversation/all", body + b" " * 4096)
    yield "webhook_request", "no-algorithm", request(SIGN | FRESH | NO_ALGORITHM, "POST", "/fuzz/sms/sinchconversation/all", body)
    for flag, label in [(QUEUE_DOWN, "queue-down"), (QUARANTINE_DOWN, "quarantine-down"), (CONFIG_DOWN, "config-down")]:
        yield "webhook_request", label, request(SIGN | FRESH | flag, "POST", "/fuzz/sms/sinchconversation/all", body)
    yield "webhook_request", "quarantine-down-not-json", request(
        SIGN | FRESH | QUARANTINE_DOWN, "POST", "/fuzz/sms/sinchconversation/all", b"not json")
    yield "signature_headers", "stale-millis", bytes([0b1111 | 1 << 4]) + (300).to_bytes(2, "little") + b"\n".join(
        [b"sig", b"n", str(NOW * 1000 - 301_000).encode(), b"HmacSHA256", b"fuzz-secret", b"", b"{}"])


def regressions():
    for folder in sorted((root / "fuzz" / "regressions").iterdir()):
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name != "README.md":
                yield folder.name, f"regression-{path.name}", path.read_bytes()


def main():
    count = 0
    for target, name, data in [*seeds(), *regressions()]:
        folder = corpus / target
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"seed-{name}").write_bytes(data)
        count += 1
    print(f"fuzz-seeds: {count} seed inputs in fuzz/corpus/", file=sys.stderr)


if __name__ == "__main__":
    main()
