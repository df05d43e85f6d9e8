#!/usr/bin/env python3
"""Per-message latency through SMTP relays, one message per connection, sequential.

    latency.py [-n 1000] [-l 4096] [--raw FILE] NAME=PORT ...

Adapted from the team's verified recipe /work/shared/recipes/examples/smtp_latency.py; added: p99,
a warm-up message per setup that is not counted, and the raw samples written to --raw
(setup<TAB>eom_ms<TAB>session_ms) for bench/relay/report.py.

For each message: "session" = connect .. 221 to QUIT; "eom" = from sending the final "." to the
250 (the part a milter's end-of-message work adds to). Setups are interleaved message by message
so drift on the shared machine hits all alike. The body imitates smtp-source -l (numbered lines
of X). Prints median, p90 and p99 in ms.
"""
import argparse
import socket
import statistics
import time


def body(length):
    out, i, size = [], 0, 0
    while size < length:
        i += 1
        line = str(i % 10) + "X" * 78 + "\r\n"
        out.append(line)
        size += len(line)
    text = "".join(out)[:length]
    return text if text.endswith("\r\n") else text + "\r\n"  # "." must start a line


def one(port, msg):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return line

    def cmd(c, ok):
        s.sendall(c.encode() + b"\r\n")
        r = reply()
        if not r.startswith(ok):
            raise RuntimeError("%s -> %r" % (c, r))

    if not reply().startswith(b"220"):
        raise RuntimeError("no banner")
    cmd("EHLO client.example", b"250")
    cmd("MAIL FROM:<src@example.org>", b"250")
    cmd("RCPT TO:<dst@example.net>", b"250")
    cmd("DATA", b"354")
    s.sendall(msg)
    t1 = time.perf_counter()
    s.sendall(b".\r\n")
    r = reply()
    t2 = time.perf_counter()
    if not r.startswith(b"250"):
        raise RuntimeError("EOM -> %r" % r)
    cmd("QUIT", b"221")
    t3 = time.perf_counter()
    s.close()
    return (t3 - t0) * 1e3, (t2 - t1) * 1e3


def quantile(v, q):
    return statistics.quantiles(v, n=100, method="inclusive")[q - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-l", type=int, default=4096)
    ap.add_argument("--raw", default="")
    ap.add_argument("setups", nargs="+")
    a = ap.parse_args()
    setups = [(x.split("=")[0], int(x.split("=")[1])) for x in a.setups]
    res = {name: ([], []) for name, _ in setups}
    text = body(a.l)
    for i in range(-1, a.n):
        msg = ("From: <src@example.org>\r\nTo: <dst@example.net>\r\n"
               "Message-Id: <lat.%d.%d@client.example>\r\n\r\n" % (i, time.time_ns()) + text).encode()
        for name, port in setups:
            sess, eom = one(port, msg)
            if i >= 0:
                res[name][0].append(sess)
                res[name][1].append(eom)
    if a.raw:
        with open(a.raw, "w") as out:
            for name, _ in setups:
                for sess, eom in zip(*res[name]):
                    out.write("%s\t%.4f\t%.4f\n" % (name, eom, sess))
    print("setup\tn\teom_med_ms\teom_p90_ms\teom_p99_ms\tsession_med_ms\tsession_p99_ms")
    for name, _ in setups:
        sess, eom = res[name]
        print("%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f" % (name, len(eom), statistics.median(eom), quantile(eom, 90),
                                                     quantile(eom, 99), statistics.median(sess),
                                                     quantile(sess, 99)))


if __name__ == "__main__":
    main()
