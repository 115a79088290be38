"""Signs and validates callbacks with Sinch's official Python SDK (PyPI `sinch`), for the
cross-check test in tests/tests/official_sdk.rs.

stdin: JSON list of {"secret", "body", "nonce", "timestamp", "signature"}.
stdout: JSON list of {"sdk_signature", "sdk_accepts_given"}: the SDK's signature of the vector,
and whether the SDK's own validator accepts the given (Switchboard-made) signature.
"""
import json
import sys

from sinch.domains.authentication.sinch_events.v1.authentication_validation import (
    calculate_sinch_event_signature,
    compute_signed_data,
    validate_sinch_event_signature_with_nonce,
)

results = []
for vector in json.load(sys.stdin):
    signed_data = compute_signed_data(vector["body"], vector["nonce"], vector["timestamp"])
    headers = {
        "X-Sinch-Webhook-Signature": vector["signature"],
        "X-Sinch-Webhook-Signature-Nonce": vector["nonce"],
        "X-Sinch-Webhook-Signature-Timestamp": vector["timestamp"],
        "X-Sinch-Webhook-Signature-Algorithm": "HmacSHA256",
    }
    results.append({
        "sdk_signature": calculate_sinch_event_signature(signed_data, vector["secret"]),
        "sdk_accepts_given": validate_sinch_event_signature_with_nonce(vector["secret"], headers, vector["body"]),
    })
json.dump(results, sys.stdout)
