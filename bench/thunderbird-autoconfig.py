#!/usr/bin/env python3
"""Thunderbird's account wizard against mailstack's autoconfig endpoint (issue 8).

    bench/thunderbird-autoconfig.py HTTP_PORT ADDRESS [IMAP_PORT SUBMISSION_PORT]

Starts a headless Thunderbird in a private network namespace (nothing but its own loopback,
joined to this machine's HTTP_PORT through a Unix socket, as ../shared/thunderbird does), and has
it run the wizard's own code: FetchConfig.fromDB fetches the configuration over HTTP from the
server (mailnews.auto_config_url pointed at http://127.0.0.1:HTTP_PORT/mail/config-v1.1.xml),
readFromXML parses it, AccountConfig.replaceVariables fills in the address. Prints what the wizard
would set up and exits 0 when the IMAP server and the SMTP submission server are the ones given
(when given) with the address as user name, 1 otherwise.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TB_DIR = os.path.join(HERE, "..", "..", "shared", "thunderbird")
sys.path.insert(0, TB_DIR)
import marionette  # noqa: E402  (the harness's client)

PORT_INSIDE = 8080
MARIONETTE_PORT = 2828


def forward(unix_path, tcp_port):
    """Host side: every connection to the Unix socket goes on to 127.0.0.1:tcp_port."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(unix_path)
    server.listen(8)

    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def serve():
        while True:
            client, _ = server.accept()
            upstream = socket.create_connection(("127.0.0.1", tcp_port))
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()


WIZARD = """
const address = arguments[0];
const { FetchConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/FetchConfig.sys.mjs");
const { AccountConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/AccountConfig.sys.mjs");
return FetchConfig.fromDB(address.split("@")[1], new AbortController().signal).then(config => {
  AccountConfig.replaceVariables(config, "Test User", address, "secret");
  const server = s => ({type: s.type, hostname: s.hostname, port: s.port, socketType: s.socketType,
                        auth: s.auth, username: s.username});
  return JSON.stringify({source: config.subSource, incoming: server(config.incoming),
                         alternatives: config.incomingAlternatives.map(server),
                         outgoing: server(config.outgoing)});
}, e => JSON.stringify({error: String(e)}));
"""


def main(argv):
    if len(argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    http_port, address = int(argv[0]), argv[1]
    expect = (int(argv[2]), int(argv[3])) if len(argv) == 4 else None
    tb_bin = shutil.which("thunderbird") or "/usr/lib/thunderbird/thunderbird-bin"
    run = tempfile.mkdtemp(prefix="tbac-")
    profile = os.path.join(run, "profile")
    os.makedirs(profile)
    with open(os.path.join(profile, "user.js"), "w") as f:
        for key, value in {"marionette.port": MARIONETTE_PORT,
                           "mailnews.auto_config_url":
                               f"http://127.0.0.1:{PORT_INSIDE}/mail/config-v1.1.xml?emailaddress={address}&domain={{{{domain}}}}",
                           "mail.provider.enabled": False, "mail.shell.checkDefaultClient": False,
                           "app.update.disabledForTesting": True, "datareporting.policy.dataSubmissionEnabled": False,
                           "toolkit.telemetry.enabled": False, "mailnews.start_page.enabled": False}.items():
            f.write(f"user_pref({json.dumps(key)}, {json.dumps(value)});\n")
    forward(os.path.join(run, "http.sock"), http_port)
    ready = os.path.join(run, "ready")
    relay = [sys.executable, os.path.join(TB_DIR, "netns_relay.py"), ready,
             f"tcp:127.0.0.1:{PORT_INSIDE}=unix:{run}/http.sock",
             f"unix:{run}/marionette.sock=tcp:127.0.0.1:{MARIONETTE_PORT}"]
    tb = [tb_bin, "--headless", "--marionette", "--remote-allow-system-access", "--no-remote", "--profile", profile]
    q = lambda a: "'" + a.replace("'", "'\\''") + "'"  # noqa: E731
    script = (" ".join(map(q, relay)) + " & i=0; while [ ! -e " + q(ready)
              + " ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exec " + " ".join(map(q, tb)))
    env = dict(os.environ, MOZ_HEADLESS="1", MOZ_REMOTE_ALLOW_SYSTEM_ACCESS="1", MOZ_CRASHREPORTER_DISABLE="1",
               MOZ_DISABLE_AUTO_SAFE_MODE="1", HOME=run, TMPDIR=run)
    env.pop("DISPLAY", None)
    log = open(os.path.join(run, "thunderbird.log"), "w")
    p = subprocess.Popen(["unshare", "-n", "sh", "-c", script], stdout=log, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not os.path.exists(os.path.join(profile, "MarionetteActivePort")):
            if p.poll() is not None or time.monotonic() > deadline:
                print(f"FAIL Thunderbird did not start (see {run}/thunderbird.log)")
                return 1
            time.sleep(0.2)
        m = marionette.Marionette(unix_path=f"{run}/marionette.sock", connect_timeout=60)
        m.new_session()
        m.set_context("chrome")
        version = m.execute("return Services.appinfo.version")
        result = json.loads(m.execute(WIZARD, [address], timeout=40))
        print(f"Thunderbird {version}, wizard config for {address}:")
        print(json.dumps(result, indent=2))
        if "error" in result:
            print("FAIL the wizard found no configuration")
            return 1
        problems = []
        incoming, outgoing = result["incoming"], result["outgoing"]
        if incoming["type"] != "imap" or incoming["username"] != address:
            problems.append(f"incoming server {incoming}")
        if outgoing["type"] != "smtp" or outgoing["username"] != address:
            problems.append(f"outgoing server {outgoing}")
        if expect and (incoming["port"], outgoing["port"]) != expect:
            problems.append(f"ports {incoming['port']}/{outgoing['port']}, expected {expect[0]}/{expect[1]}")
        if not any(a["type"] == "pop3" for a in result["alternatives"]):
            problems.append("no POP3 alternative")
        for problem in problems:
            print("FAIL " + problem)
        print("PASS the wizard configures IMAP, POP3 and SMTP from the address alone" if not problems else "")
        return 1 if problems else 0
    finally:
        os.killpg(p.pid, 15)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
