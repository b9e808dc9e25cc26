"""Sign-in under a password-guessing attack (issue 13).

One client (its own address, passed as X-Forwarded-For, which the server trusts from
127.0.0.1) sends wrong passwords for the user's account at 50 a second; meanwhile the user
signs in with the right password from their own address, one try at a time. Baseline: the
same right sign-ins with no attack, measured first in the same run. Target: each right try
answers in under 300 ms (median and p95 printed), and the attacker's tries are refused
cheaply (429, no password hashing) after the first few.

    .venv/bin/python bench/login.py            # 20 right tries each way
    .venv/bin/python bench/login.py --quick    # 8
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    ADMIN_PASSWORD,
    heading,
    load_average,
    median,
    percentile,
    running_server,
    verdict,
)

TARGET_MS = 300
ATTACK_RATE = 50  # wrong passwords a second


def make_user(url: str) -> tuple[str, str]:
    username, password = f"login{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    with httpx.Client(base_url=url, timeout=30) as http:
        admin = http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()
        created = http.post(
            "/api/users",
            json={"username": username, "password": password},
            headers={"authorization": f"Bearer {admin['token']}"},
        )
        created.raise_for_status()
    return username, password


def right_tries(url: str, username: str, password: str, count: int) -> list[float]:
    """Milliseconds of each right sign-in, from the owner's own address, half a second apart."""
    times = []
    with httpx.Client(base_url=url, timeout=30, headers={"x-forwarded-for": "10.1.1.1"}) as http:
        for _ in range(count):
            started = time.perf_counter()
            answer = http.post("/api/auth/login", json={"username": username, "password": password})
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"the owner's right try got {answer.status_code}: {answer.text}")
            time.sleep(0.5)
    return times


def hammer(url: str, username: str, stop: threading.Event, answers: Counter[int]) -> None:
    """Wrong passwords at ATTACK_RATE a second from another address, each try on its own thread
    so a slow answer does not lower the rate."""
    interval = 1 / ATTACK_RATE
    client = httpx.Client(
        base_url=url,
        timeout=30,
        headers={"x-forwarded-for": "10.9.9.9"},
        limits=httpx.Limits(max_connections=64),
    )

    def one() -> None:
        try:
            status = client.post("/api/auth/login", json={"username": username, "password": "guess-1234"})
            answers[status.status_code] += 1
        except httpx.HTTPError:
            answers[0] += 1

    next_at = time.perf_counter()
    threads = []
    while not stop.is_set():
        thread = threading.Thread(target=one, daemon=True)
        thread.start()
        threads.append(thread)
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    for thread in threads:
        thread.join(timeout=30)
    client.close()


def report(name: str, times: list[float]) -> tuple[float, float]:
    mid, p95 = median(times), percentile(times, 95)
    print(f"  {name:<22} median {mid:6.1f} ms   p95 {p95:6.1f} ms   ({len(times)} tries)")
    return mid, p95


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 8 if args.quick else 20
    heading(f"sign-in under {ATTACK_RATE} wrong passwords a second ({load_average()})")
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "sqlite") as server:
        username, password = make_user(server.url)
        base_mid, _ = report("no attack (baseline)", right_tries(server.url, username, password, count))
        stop, answers = threading.Event(), Counter[int]()
        attacker = threading.Thread(target=hammer, args=(server.url, username, stop, answers))
        attacker.start()
        time.sleep(1.0)  # let the attack reach its rate and its backoff
        try:
            mid, p95 = report("under attack", right_tries(server.url, username, password, count))
        finally:
            stop.set()
            attacker.join()
        print(f"  attacker's answers: {dict(sorted(answers.items()))} (429: refused before any hashing)")
        print(f"  ratio under attack / baseline (median): {mid / base_mid:.2f}")
        print(f"  target: each right try under {TARGET_MS} ms (p95): {verdict(p95 < TARGET_MS)}")


if __name__ == "__main__":
    main()
