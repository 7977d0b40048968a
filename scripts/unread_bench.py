#!/usr/bin/env python3
"""unread_bench.py - what one unread request costs at its worst.

Starts the given pierd (rate limits lifted) in a temporary directory; one user joins 100
rooms, another writes 1001 messages in each (100,100 in all) while the first is away; then
the first asks for a full page of unread counts (#lobby and 99 rooms, each past the cap of
1000) 20 times and prints the latency percentiles and the reply size.

    scripts/unread_bench.py build/pierd

A measurement for docs/PERFORMANCE.md, not a test: the figures depend on the machine. Only
loopback; every loop is bounded.
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.f = self.s.makefile("rb")
        self.n = 0

    def send(self, o):
        self.n += 1
        o["ref"] = str(self.n)
        self.s.sendall((json.dumps(o) + "\n").encode())
        return str(self.n)

    def wait(self, ref):
        while True:
            o = json.loads(self.f.readline())
            if o.get("ref") == ref:
                return o

    def call(self, o):
        return self.wait(self.send(o))


def login(port, user):
    c = Client(port)
    r = c.call({"op": "login", "user": user, "password": "pw-secret-42"})
    assert r["status"] == 1, r
    return c


def main():
    pierd, port, data = sys.argv[1], free_port(), tempfile.mkdtemp(prefix="pier-unread-")
    proc = subprocess.Popen([pierd, "--listen", "127.0.0.1:%d" % port, "--http", "off",
                             "--data-dir", data, "--no-rate-limits", "--weak-password-hash",
                             "--log-level", "warn"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        reg = Client(port)
        for u in ("reader_1", "writer_1"):
            reg.call({"op": "register", "user": u, "password": "pw-secret-42"})
        a, b = login(port, "reader_1"), login(port, "writer_1")
        rooms = ["#bench%d" % i for i in range(100)]
        for room in rooms:
            a.call({"op": "join", "room": room})
            b.call({"op": "join", "room": room})
        a.s.close()
        t0, last = time.time(), None
        for room in rooms:
            for k in range(1001):
                last = b.send({"op": "send", "to": room, "text": "m%d" % k})
        b.wait(last)
        print("stored 100100 messages in %.1f s" % (time.time() - t0))
        a = login(port, "reader_1")
        ts = []
        for _ in range(20):
            s = time.time()
            r = a.call({"op": "unread", "limit": 100})
            ts.append(time.time() - s)
        capped = sum(1 for c in r["conversations"] if c.get("capped"))
        ts.sort()
        print("unread, a page of %d conversations (%d capped): p50 %.1f ms, max %.1f ms, "
              "reply %d bytes" % (len(r["conversations"]), capped, ts[10] * 1000, ts[-1] * 1000,
                                  len(json.dumps(r))))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
