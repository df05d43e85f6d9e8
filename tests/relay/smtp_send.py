#!/usr/bin/env python3
"""Send messages through an SMTP server from a chosen loopback source address; print one JSON line.

Each loopback source address (127.0.0.2, 127.0.0.3, ...) is a different subscriber in the relay
tests' subscriber table. Messages go over one SMTP connection (RSET between messages) like a real
client's queue run; a 4xx/5xx at any stage is recorded for that message and the run continues.

  smtp_send.py --server 127.0.0.1:10025 --source 127.0.0.9 --count 50 --kind spam --marker M123
Output: {"sent": N, "accepted": A, "deferred": D, "rejected": R, "codes": [250, 451, ...]}
"""
import argparse
import json
import random
import smtplib
import sys
import time

HAM = ("Hi {name},\r\n\r\nthanks for the notes from Tuesday. I moved our meeting to Thursday at ten and "
       "attached the draft of the quarterly report; the budget table is on page three.\r\n\r\nSee you then,\r\nSam\r\n")
# An inconspicuous text no other test subscriber sends (so it forms no cross-subscriber campaign).
NOTICE = ("Hello {name},\r\n\r\nthe parents' evening at the school is moved to the gym this week; please bring "
          "the signed form for the excursion and a pen. Coffee will be served from seven.\r\n\r\nRegards,\r\nDana\r\n")
SPAM = ("Dear friend {name},\r\n\r\nCHEAP PILLS casino prize WINNER free offer!!! Click now "
        "http://promo{n}.example.biz/win to claim your prize. Limited offer, act now, 100% free money.\r\n")


def message(kind, i, marker, sender, rcpts, rng):
    name = rng.choice(["Alex", "Kim", "Jo", "Pat", "Lee"])
    if kind == "spam":
        subject = "WINNER {} cheap pills {}".format(i, marker)
        body = SPAM.format(name=name, n=i % 4)
    elif kind == "notice":
        subject = "School evening {} {}".format(i, marker)
        body = NOTICE.format(name=name)
    else:
        subject = "Re: meeting notes {} {}".format(i, marker)
        body = HAM.format(name=name)
    body += "\r\nref {}\r\n".format(marker)
    return ("From: {s}\r\nTo: {r}\r\nSubject: {sub}\r\nMessage-ID: <{m}.{i}@example.org>\r\n"
            "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n{b}").format(
                s=sender, r=", ".join(rcpts), sub=subject, m=marker, i=i, b=body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="127.0.0.1:10025")
    ap.add_argument("--source", default="127.0.0.1", help="loopback address to send from")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--rcpts", type=int, default=1, help="recipients per message")
    ap.add_argument("--kind", choices=["ham", "spam", "notice"], default="ham")
    ap.add_argument("--marker", default="", help="unique string put into subject and body")
    ap.add_argument("--sender", default="")
    ap.add_argument("--new-recipients", action="store_true", help="a fresh recipient and domain per message")
    ap.add_argument("--invalid-every", type=int, default=0,
                    help="every Nth message's first recipient is at bounce.test (the relay's error transport)")
    ap.add_argument("--helo", default="client.example")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", type=int, default=0, help="number of the first message (Message-ID)")
    ap.add_argument("--retry-for", type=float, default=0,
                    help="like an MTA: retry messages answered 4xx (or cut off) for up to this many seconds")
    ap.add_argument("--write-dir", default="", help="write the messages as .eml files instead of sending")
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    rng = random.Random(a.seed)
    sender = a.sender or "user@{}.example.org".format(a.source.replace(".", "-"))
    out = {"sent": 0, "accepted": 0, "deferred": 0, "rejected": 0, "retries": 0, "codes": []}
    messages = []
    for i in range(a.first, a.first + a.count):
        if a.new_recipients:
            rcpts = ["r{}x{}.{}@d{}-{}.example.net".format(i, k, a.marker, i, k) for k in range(a.rcpts)]
        else:
            rcpts = ["friend{}.{}@example.net".format(k, a.marker) for k in range(a.rcpts)]
        if a.invalid_every > 0 and i % a.invalid_every == 0:
            rcpts[0] = "gone{}.{}@bounce.test".format(i, a.marker)
        messages.append((rcpts, message(a.kind, i, a.marker, sender, rcpts, rng)))
    if a.write_dir:
        for n, (_, msg) in enumerate(messages):
            with open("{}/{}-{}.eml".format(a.write_dir, a.kind, a.first + n), "w") as f:
                f.write(msg)
        return

    smtp = None

    def connect():
        deadline = time.time() + max(a.retry_for, 1)
        while True:
            try:
                return smtplib.SMTP(host, int(port), local_hostname=a.helo, source_address=(a.source, 0), timeout=60)
            except (OSError, smtplib.SMTPException):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def send_one(rcpts, msg):
        nonlocal smtp
        if smtp is None:
            smtp = connect()
        try:
            refused = smtp.sendmail(sender, rcpts, msg.encode())
            code = min(c for c, _ in refused.values()) if refused else 250
        except smtplib.SMTPRecipientsRefused as e:
            code = min(c for c, _ in e.recipients.values())
        except smtplib.SMTPResponseException as e:
            code = e.smtp_code
        except (smtplib.SMTPServerDisconnected, OSError):
            code = 421
            smtp = None
            return code
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            smtp = None
        return code

    give_up = time.time() + a.retry_for
    for rcpts, msg in messages:
        code = send_one(rcpts, msg)
        while a.retry_for > 0 and 400 <= code < 500 and time.time() < give_up:
            out["retries"] += 1
            time.sleep(0.2)
            code = send_one(rcpts, msg)
        out["sent"] += 1
        out["codes"].append(code)
        if code < 300:
            out["accepted"] += 1
        elif code < 500:
            out["deferred"] += 1
        else:
            out["rejected"] += 1
    if smtp is not None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
