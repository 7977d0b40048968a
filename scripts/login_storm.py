#!/usr/bin/env python3
"""login_storm.py - what a storm of password logins does to another user's downloads.

Starts the given pierd (real argon2id hashing, rate limits lifted so that the storm is not
simply refused), uploads a 1 MiB file as a bystander, then times GET /media/ID (a file read
on the server) before and during a storm of CLIENTS threads that log in with a password in a
loop. Prints the latency percentiles of both phases and how many logins the storm made.

    scripts/login_storm.py build/pierd [--clients 64] [--seconds 15]

A measurement for the notes and docs/SECURITY.md, not a test: the figures depend on the
machine. Only loopback; every loop is bounded by --seconds.
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, threading, time
import http.client


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(sock_file, sock, req):
    sock.sendall((json.dumps(req) + "\n").encode())
    while True:
        line = sock_file.readline()
        if not line:
            raise RuntimeError("connection closed")
        ev = json.loads(line)
        if ev.get("op") in (req["op"], "error"):
            return ev


def session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    return s, s.makefile("r", encoding="utf-8")


def percentiles(xs):
    xs = sorted(xs)
    if not xs:
        return "no samples"
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    return "n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms" % (len(xs), pick(0.5), pick(0.99), xs[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pierd")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=15)
    a = ap.parse_args()

    data = tempfile.mkdtemp(prefix="pier-storm-")
    port, http_port = free_port(), free_port()
    log = open(os.path.join(data, "pierd.log"), "w")
    proc = subprocess.Popen([a.pierd, "--listen", "127.0.0.1:%d" % port, "--http",
                             "127.0.0.1:%d" % http_port, "--data-dir", data + "/d",
                             "--no-rate-limits", "--max-conns-per-addr", "0"],
                            stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        s, f = session(port)
        for user in ("bystander", "stormer"):
            r = call(f, s, {"op": "register", "user": user, "password": "storm-password"})
            assert r.get("status") == 3, r
        r = call(f, s, {"op": "login", "user": "bystander", "password": "storm-password"})
        token = r["token"]
        h = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
        body = os.urandom(1 << 20)
        h.request("POST", "/api/media?name=blob.bin", body=body,
                  headers={"Authorization": "Bearer " + token})
        resp = h.getresponse()
        media = json.loads(resp.read())["id"]

        def fetch_ms():
            t0 = time.perf_counter()
            h.request("GET", "/media/%d" % media, headers={"Authorization": "Bearer " + token})
            resp = h.getresponse()
            n = len(resp.read())
            assert resp.status == 200 and n == len(body), (resp.status, n)
            return (time.perf_counter() - t0) * 1000

        quiet = [fetch_ms() for _ in range(50)]
        stop = time.monotonic() + a.seconds
        logins = [0]
        lock = threading.Lock()

        def storm():
            while time.monotonic() < stop:
                try:
                    c, cf = session(port)
                    r = call(cf, c, {"op": "login", "user": "stormer",
                                     "password": "storm-password"})
                    c.close()
                    if r.get("status") == 1:
                        with lock:
                            logins[0] += 1
                except (OSError, RuntimeError):
                    time.sleep(0.01)

        threads = [threading.Thread(target=storm) for _ in range(a.clients)]
        for t in threads:
            t.start()
        time.sleep(min(2, a.seconds / 4))     # the storm is under way
        loud = []
        while time.monotonic() < stop:
            loud.append(fetch_ms())
            time.sleep(0.05)
        for t in threads:
            t.join()
        print("pierd: %s" % a.pierd)
        print("GET /media (1 MiB) quiet:        %s" % percentiles(quiet))
        print("GET /media during %d-client storm: %s" % (a.clients, percentiles(loud)))
        print("logins completed during the storm: %d in %.0f s" % (logins[0], a.seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
