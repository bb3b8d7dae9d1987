#!/usr/bin/env python3
"""SIGKILL a loaded mailstack again and again, then check that nothing accepted was lost or doubled.

    bench/kill-during-load.py [ROUNDS] [CLIENTS] [--relay]

Starts `./mailstack serve` on a fresh data folder under /tmp (loopback, ports 3525/3143/...),
has CLIENTS SMTP clients send uniquely numbered messages to one local user without pause, kills
the server with SIGKILL at a random moment of each round, starts it again, and at the end reads
every Message-ID in the user's INBOX over IMAP. It passes when every message that got its 250 is
there exactly once, none is there twice, and none is there whose DATA never reached its final dot.
A message whose final dot went out but whose reply never came may be there once or not at all
(the client cannot know; RFC 5321 §4.1.1.4 and §6.1 leave that to a retry).

With --relay the user lives on a second mailstack (B, ports 4525/4143/...) that is never killed:
the killed server (A) accepts from trusted loopback and relays through queue.static_routes, so
kills also land in the middle of outbound deliveries. Nothing may be lost; a copy twice at B is
counted, not failed: a kill after B's 250 and before A records it leaves A to send it again
(RFC 5321 §6.1 accepts that duplicate, Postfix makes it too).
"""
import imaplib
import os
import random
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTS = {"smtp": 3525, "submission": 3587, "pop3": 3110, "imap": 3143}
RELAY_PORTS = {"smtp": 4525, "submission": 4587, "pop3": 4110, "imap": 4143}
USER, PASSWORD = "chaos@example.test", "secret"


def mailstack(data, *args, stdin=None):
    return subprocess.run([os.path.join(ROOT, "mailstack"), *args, "--data", data],
                          input=stdin, capture_output=True, text=True, check=True)


def start(data, config, ports=PORTS):
    log = open(data + ".log", "a")
    proc = subprocess.Popen([os.path.join(ROOT, "mailstack"), "serve", "--data", data, "--config", config,
                             "--smtp-port", str(ports["smtp"]), "--submission-port", str(ports["submission"]),
                             "--pop3-port", str(ports["pop3"]), "--imap-port", str(ports["imap"])],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("the server exited with %d; see %s" % (proc.returncode, log.name))
        try:
            socket.create_connection(("127.0.0.1", ports["imap"]), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)  # a port to appear: nothing to await but the connect itself
    proc.kill()
    sys.exit("the server did not open its ports within 60 s")


class Sender(threading.Thread):
    """Sends numbered messages until told to stop or the server goes away."""

    def __init__(self, name, counter, outcome):
        super().__init__(daemon=True)
        self.name, self.counter, self.outcome = name, counter, outcome

    def run(self):
        try:
            client = smtplib.SMTP("127.0.0.1", PORTS["smtp"], timeout=30)
            client.ehlo("chaos")
            while True:
                with self.counter["lock"]:
                    n = self.counter["next"]
                    self.counter["next"] += 1
                mid = "<chaos-%d@example.test>" % n
                body = "Message-ID: %s\r\nSubject: chaos %d\r\n\r\n%s\r\n" % (mid, n, "x" * random.randint(10, 4000))
                client.mail("sender@elsewhere.test")
                client.rcpt(USER)
                self.outcome[mid] = "in-flight"  # from here the final dot may have gone out
                code, _ = client.data(body)
                self.outcome[mid] = "accepted" if code == 250 else "refused"
        except (OSError, smtplib.SMTPException):
            pass  # the kill; an "in-flight" entry stays as it is


def inbox_ids(ports):
    imap = imaplib.IMAP4("127.0.0.1", ports["imap"])
    imap.login(USER, PASSWORD)
    imap.select("INBOX", readonly=True)
    _, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    imap.logout()
    ids = []
    for item in data:
        if isinstance(item, tuple):
            ids.append(item[1].decode().split(":", 1)[1].strip())
    return ids


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    relay = "--relay" in sys.argv
    rounds = int(args[0]) if len(args) > 0 else 10
    clients = int(args[1]) if len(args) > 1 else 8
    work = tempfile.mkdtemp(prefix="mailstack-kill-")
    data, config = os.path.join(work, "data"), os.path.join(work, "mailstack.conf")
    with open(config, "w") as f:
        f.write("http.port = 3880\n")
        if relay:
            f.write("smtp.trusted_networks = 127.0.0.1/32\nqueue.static_routes = example.test=127.0.0.1:%d\n"
                    % RELAY_PORTS["smtp"])
    mailbox, mailbox_ports, peer = data, PORTS, None
    if relay:
        mailbox, mailbox_ports = os.path.join(work, "peer"), RELAY_PORTS
        peer_config = os.path.join(work, "peer.conf")
        with open(peer_config, "w") as f:
            f.write("http.port = 4880\n")
    mailstack(mailbox, "domain", "add", "example.test")
    mailstack(mailbox, "user", "add", USER, "--password-stdin", stdin=PASSWORD + "\n")
    if relay:
        peer = start(mailbox, peer_config, RELAY_PORTS)
    counter, outcome = {"next": 0, "lock": threading.Lock()}, {}
    for r in range(rounds):
        server = start(data, config)
        senders = [Sender("s%d" % i, counter, outcome) for i in range(clients)]
        for s in senders:
            s.start()
        time.sleep(random.uniform(0.3, 3.0))  # the kill's moment is meant to be arbitrary
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        for s in senders:
            s.join(60)
        print("round %d: %d messages tried so far" % (r + 1, len(outcome)), flush=True)
    server = start(data, config)
    try:
        accepted = {m for m, o in outcome.items() if o == "accepted"}
        deadline = time.monotonic() + 120
        while True:  # the queue delivers what was accepted before the last kill
            ids = inbox_ids(mailbox_ports)
            if accepted <= set(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        for p in (server, peer):
            if p is not None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait()
    seen = {}
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
    lost = sorted(accepted - seen.keys())
    twice = sorted(m for m, c in seen.items() if c > 1)
    unknown = sorted(m for m in seen if outcome.get(m) not in ("accepted", "in-flight"))
    in_flight = [m for m, o in outcome.items() if o == "in-flight"]
    print("accepted %d, in INBOX %d, in flight at a kill %d (%d of them stored)"
          % (len(accepted), len(ids), len(in_flight), sum(1 for m in in_flight if m in seen)))
    print("lost %d, twice %d, stored without a final dot or refused %d" % (len(lost), len(twice), len(unknown)))
    for label, items in (("lost", lost), ("twice", twice), ("unexpected", unknown)):
        for m in items[:10]:
            print("  %s: %s" % (label, m))
    if relay and twice:
        print("(relayed: %d copies twice at the next hop, each a kill between its 250 and A's record)" % len(twice))
        twice = []
    if lost or twice or unknown:
        print("FAIL (data folder kept: %s)" % work)
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
