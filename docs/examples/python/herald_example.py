#!/usr/bin/env python3
"""Herald from Python with the standard library only.

- mint_token(): an HS256 connection token (the claims of docs/protocol.md "JWT claims")
- publish(): POST /v1/publish with an idempotency id, retried on 503 / 429 / 502 / 504,
  timeouts and network errors with the same id, honouring Retry-After (bounded attempts and time,
  full-jitter backoff)
- verify_webhook(): a Standard-Webhooks-style signature
  (webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">)

Command line:
  herald_example.py token   --secret S --sub 42 [--topics news,orders.>] [--ttl 3600]
  herald_example.py publish --api http://127.0.0.1:8080 --key K (--topic T | --user U) [--id ID] DATA_JSON
  herald_example.py verify  --secret S --id ID --timestamp TS --signature SIG  < body
"""
import argparse
import base64
import hashlib
import hmac
import json
import random
import sys
import time
import urllib.error
import urllib.request
import uuid

RETRYABLE_STATUSES = {429, 502, 503, 504}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(secret: str, sub: str, topics=None, ttl: int = 3600, info=None) -> str:
    """Signs a JWT (HS256) with sub, iat, exp and, when given, topics and info."""
    now = int(time.time())
    claims = {"sub": sub, "iat": now, "exp": now + ttl}
    if topics is not None:
        claims["topics"] = list(topics)
    if info is not None:
        claims["info"] = info
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


class HeraldError(Exception):
    """The API's error answer (code is the wire code) or no answer (code timeout / network_error)."""

    def __init__(self, code: str, message: str, status: int = 0, attempts: int = 1):
        super().__init__(f"{code}: {message}")
        self.code, self.status, self.attempts = code, status, attempts


def _retry_after_seconds(value):
    """Retry-After as seconds (delta-seconds form); None when absent or not a number."""
    try:
        return max(0.0, float(int(value))) if value is not None else None
    except ValueError:
        return None


def publish(api: str, key: str, message: dict, *, timeout: float = 10.0, max_attempts: int = 5,
            max_elapsed: float = 30.0, base_delay: float = 0.2, max_delay: float = 5.0) -> dict:
    """POST /v1/publish. Adds an idempotency id when the message has none and keeps it across retries:
    a retry after a 503 or a timeout stores the message once. Returns the answer plus the id."""
    body_dict = dict(message)
    body_dict.setdefault("id", str(uuid.uuid4()))
    body = json.dumps(body_dict).encode("utf-8")  # the same bytes on every attempt
    url = api.rstrip("/") + "/v1/publish"
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        retry_after = None
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=timeout) as res:
                answer = json.loads(res.read() or b"null")
                answer["id"] = body_dict["id"]
                return answer
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                err = json.loads(raw)["error"]
                failure = HeraldError(err["code"], err["message"], e.code, attempt)
            except (ValueError, KeyError, TypeError):
                failure = HeraldError("unexpected_response", f"HTTP {e.code}", e.code, attempt)
            if e.code not in RETRYABLE_STATUSES:
                raise failure
            retry_after = _retry_after_seconds(e.headers.get("retry-after"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            code = "timeout" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else "network_error"
            failure = HeraldError(code, str(reason), 0, attempt)
        # Full jitter, never shorter than the server's Retry-After; give up past the bounds.
        delay = max(random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1))), retry_after or 0)
        if attempt >= max_attempts or time.monotonic() + delay - started > max_elapsed:
            raise failure
        time.sleep(delay)


def _webhook_key(secret: str) -> bytes:
    # Standard Webhooks secrets are "whsec_" + base64 of the key; any other string is used as UTF-8 bytes.
    return base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode("utf-8")


def verify_webhook(secret: str, msg_id: str, timestamp: str, signature_header: str, body: bytes,
                   tolerance: int = 300, now=None) -> bool:
    """True when one of the header's `v1,<base64>` signatures is HMAC-SHA256(key, "id.timestamp.body")
    and the timestamp is within `tolerance` seconds of now (a replayed old delivery fails)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + body
    expected = base64.b64encode(hmac.new(_webhook_key(secret), signed, hashlib.sha256).digest()).decode("ascii")
    for part in signature_header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("token")
    t.add_argument("--secret", required=True)
    t.add_argument("--sub", required=True)
    t.add_argument("--topics", default=None)
    t.add_argument("--ttl", type=int, default=3600)
    pub = sub.add_parser("publish")
    pub.add_argument("--api", required=True)
    pub.add_argument("--key", required=True)
    target = pub.add_mutually_exclusive_group(required=True)
    target.add_argument("--topic")
    target.add_argument("--user")
    pub.add_argument("--id")
    pub.add_argument("--timeout", type=float, default=10.0)
    pub.add_argument("data")
    v = sub.add_parser("verify")
    v.add_argument("--secret", required=True)
    v.add_argument("--id", required=True)
    v.add_argument("--timestamp", required=True)
    v.add_argument("--signature", required=True)
    args = p.parse_args(argv)

    if args.cmd == "token":
        topics = args.topics.split(",") if args.topics else None
        print(mint_token(args.secret, args.sub, topics, args.ttl))
        return 0
    if args.cmd == "publish":
        message = {"topic": args.topic} if args.topic else {"user": args.user}
        message["data"] = json.loads(args.data)
        if args.id:
            message["id"] = args.id
        try:
            print(json.dumps(publish(args.api, args.key, message, timeout=args.timeout)))
            return 0
        except HeraldError as e:
            print(json.dumps({"error": {"code": e.code, "status": e.status, "attempts": e.attempts, "message": str(e)}}))
            return 1
    body = sys.stdin.buffer.read()
    ok = verify_webhook(args.secret, args.id, args.timestamp, args.signature, body)
    print("valid" if ok else "invalid")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
