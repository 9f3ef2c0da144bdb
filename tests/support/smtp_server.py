#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the send tests.

Writes each accepted message to OUT/NNNN.eml with its envelope in
OUT/NNNN.env, prints "PORT <n>" when listening, and with --fail-after N
answers 451 to every message after the first N. With --delay S it touches
OUT/started-K when the K-th message's data has arrived, then waits S
seconds before it accepts and stores it (a client that hangs up meanwhile
leaves nothing stored). Stops by itself after --lifetime seconds.
"""
import argparse
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, out, fail_after, delay):
        self.out = out
        self.fail_after = fail_after
        self.delay = delay
        self.count = 0
        self.started = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            self.started += 1
            open(os.path.join(self.out, "started-%d" % self.started), "w").close()
            await asyncio.sleep(self.delay)
        if self.fail_after is not None and self.count >= self.fail_after:
            return "451 4.3.0 Temporary failure, try again later"
        self.count += 1
        base = os.path.join(self.out, "%04d" % self.count)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".env", "w") as f:
            f.write("from %s\n" % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write("to %s\n" % r)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--fail-after", type=int)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--delay", type=float, default=0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    store = Store(a.out, a.fail_after, a.delay)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(store, hostname="127.0.0.1"), "127.0.0.1", 0
        )
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(a.lifetime)
        server.close()

    asyncio.run(serve())

if __name__ == "__main__":
    sys.exit(main())
