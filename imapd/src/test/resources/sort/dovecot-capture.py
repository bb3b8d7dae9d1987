#!/usr/bin/env python3
"""Runs commands.txt against a private Dovecot and writes its answers to ../dovecot-<version>.sort.

By hand, once (CI has no Dovecot): python3 dovecot-capture.py. Starts Dovecot with a configuration
of its own under /tmp/sort-dovecot (IMAP on 127.0.0.1:31143 only, no TLS, one static user, Maildir),
APPENDs mime's corpus (in name order) and then t*.eml here into INBOX, each with the internal date
DovecotSortTest gives it, runs every command, and stops Dovecot. Nothing leaves the machine.
"""
import glob, os, shutil, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "../../../../../mime/src/test/resources/corpus")
ROOT = "/tmp/sort-dovecot"
PORT = 31143


def messages():
    return sorted(glob.glob(os.path.join(CORPUS, "*.eml"))) + sorted(glob.glob(os.path.join(HERE, "t*.eml")))


def internal_date(k):
    """Message k (1-based): 1 Nov 2026 plus (k*17 mod 40) hours, so arrival order is not sequence order and has ties."""
    hours = (k * 17) % 40
    return "%02d-Nov-2026 %02d:00:00 +0000" % (1 + hours // 24, hours % 24)


def start():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT + "/run")
    os.makedirs(ROOT + "/home")
    os.chmod(ROOT, 0o777)
    os.chmod(ROOT + "/home", 0o777)
    with open(ROOT + "/dovecot.conf", "w") as f:
        f.write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {ROOT}/run
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{ROOT}/home/Maildir
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={ROOT}/home
}}
service imap-login {{
  inet_listener imap {{
    port = {PORT}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
log_path = {ROOT}/dovecot.log
""")
    subprocess.run(["dovecot", "-c", ROOT + "/dovecot.conf"], check=True)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", PORT), 1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("dovecot did not listen")


class Imap:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), 10)
        self.f = self.s.makefile("rb")
        self.f.readline()
        self.n = 0

    def command(self, text, literal=None):
        self.n += 1
        tag = "t%d" % self.n
        data = (tag + " " + text).encode()
        if literal is not None:
            data += b" {%d+}\r\n" % len(literal) + literal
        self.s.sendall(data + b"\r\n")
        untagged = []
        while True:
            line = self.f.readline().decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(tag + " "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)


def main():
    version = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.split()[0]
    start()
    try:
        imap = Imap()
        assert imap.command("LOGIN tester secret")[1].startswith("OK")
        for k, path in enumerate(messages(), 1):
            with open(path, "rb") as f:
                status = imap.command('APPEND INBOX () "%s"' % internal_date(k), f.read())[1]
            assert status.startswith("OK"), (path, status)
        assert imap.command("SELECT INBOX")[1].startswith("OK")
        out = ["# Dovecot %s's answers to commands.txt; written by sort/dovecot-capture.py" % version]
        for line in open(os.path.join(HERE, "commands.txt"), encoding="utf-8"):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            untagged, status = imap.command(line)
            out.append("C: " + line)
            out.extend("S: " + u for u in untagged if u.split(" ")[1] in ("SORT", "THREAD", "ESEARCH"))
            out.append("S: " + status.split(" ")[0])
        imap.command("LOGOUT")
    finally:
        subprocess.run(["dovecot", "-c", ROOT + "/dovecot.conf", "stop"])
    with open(os.path.join(HERE, "..", "dovecot-%s.sort" % version), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
