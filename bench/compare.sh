#!/bin/sh
# Measures mailstack and the reference servers in one run and prints the ratios (issue 9).
#   bench/compare.sh [mailbox-size]      (default 10000 messages; results also in bench/results.jsonl)
set -eu
cd "$(dirname "$0")/.."
size="${1:-10000}"
data="$(mktemp -d /tmp/mailstack-bench.XXXXXX)"
out=bench/results.jsonl
: > "$out"
i=1; while [ $i -le 50 ]; do echo "user$i@example.test secret"; i=$((i + 1)); done > "$data/users.txt"
./mailstack domain add example.test --data "$data/store" >/dev/null
./mailstack user import "$data/users.txt" --data "$data/store" >/dev/null
MAILSTACK_HTTP_PORT=off MAILSTACK_NET_MAX_CONNECTIONS_PER_IP=2000 ./mailstack serve --data "$data/store" --hostname bench.example.test \
  --smtp-port 12525 --submission-port off --imap-port 12143 --pop3-port 12110 > "$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; bench/reference-servers.sh stop >/dev/null 2>&1 || true' EXIT
bench/reference-servers.sh start
until grep -q "ready hostname" "$data/server.log"; do sleep 0.2; done
pid=$(pgrep -f "bench.example.test" | head -1)

run() {
  ./mailstack-bench "$@" > "$data/run.txt"
  grep -v '^{' "$data/run.txt"
  grep '^{' "$data/run.txt" >> "$out"
}
run mime --repeat 5 --label mailstack
# Both servers measure a mailbox of exactly $size: the reference keeps its mail under /tmp between
# runs (an earlier run with another size left more), mailstack's store is new.
doveadm -c /tmp/mailstack-reference/dovecot.conf expunge -u user1@example.test mailbox INBOX all
# One unrecorded pass first: it fills the mailbox and lets the JVM compile its hot paths, so the
# figures are those of a server that has been running (Dovecot needs no warm-up; it gets one too).
./mailstack-bench imap --label warmup --imap-port 12143 --user user1@example.test --mailbox-size "$size" > /dev/null
./mailstack-bench imap --label warmup --imap-port 20143 --user user1@example.test --mailbox-size "$size" > /dev/null
run imap --label mailstack --imap-port 12143 --user user1@example.test --mailbox-size "$size" --repeat 5
run imap --label dovecot --imap-port 20143 --user user1@example.test --mailbox-size "$size" --repeat 5
run pop3 --label mailstack --pop3-port 12110 --user user1@example.test --repeat 3
run pop3 --label dovecot --pop3-port 20110 --user user1@example.test --repeat 3
# The same for SMTP: an unrecorded round of each size at 32 clients to another user, so the JIT has
# compiled the intake and delivery paths before the measured rounds, as in a server that has been
# running. It takes long: with 6,000 messages behind it the compiler still had 40% of the server's
# CPU during a 32-client round (async-profiler) and 14% with 40,000; 2 KB at 32 clients went from
# about 960 msg/s after 6,000 to 1,180-1,280 after 40,000 (NOTES.md, twenty-second session).
# Postfix gets one too, and its queue is drained before its measured run.
./mailstack-bench smtp --label warmup --smtp-port 12525 --imap-port 12143 --rcpt user4@example.test \
  --messages 30000 --clients 32 > /dev/null
./mailstack-bench smtp --label warmup --smtp-port 20025 --imap-port 20143 --rcpt user4@example.test \
  --messages 500 --clients 32 > /dev/null
run smtp --label mailstack --smtp-port 12525 --imap-port 12143 --rcpt user2@example.test --messages 1000
# The reference's mail stays under /tmp between runs; start from an empty INBOX as mailstack's fresh
# store does, or Dovecot rescans a maildir of every earlier run's messages on each delivery.
doveadm -c /tmp/mailstack-reference/dovecot.conf expunge -u user2@example.test mailbox INBOX all
i=0; until postqueue -c /tmp/mailstack-reference/postfix -p 2>/dev/null | grep -q "Mail queue is empty"; do
  i=$((i + 1)); [ $i -le 600 ] || { echo "compare: the reference Postfix queue did not drain" >&2; break; }; sleep 0.2
done
doveadm -c /tmp/mailstack-reference/dovecot.conf expunge -u user4@example.test mailbox INBOX all # the warm-up's
run smtp --label postfix --smtp-port 20025 --imap-port 20143 --rcpt user2@example.test --messages 1000
run idle --label mailstack --imap-port 12143 --user user3@example.test --connections 1000 --server-pid "$pid"
run idle --label dovecot --imap-port 20143 --user user3@example.test --connections 1000 \
  --server-pid "$(cat /tmp/mailstack-reference/run/master.pid)"

# One table per reference label (dovecot for IMAP/POP3, postfix for SMTP): each of its rows
# beside mailstack's row for the same bench, metric, clients and size.
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def key(r):
    return (r["bench"], r["metric"], json.dumps({k: v for k, v in r.items() if k in ("clients", "size")}, sort_keys=True))
def name(r):
    extra = ", ".join("%s %s" % (k, r[k]) for k in ("clients", "size") if k in r)
    return r["bench"] + " " + r["metric"] + (" (" + extra + ")" if extra else "")
ms = {key(r): r for r in rows if r["server"] == "mailstack"}
references = list(dict.fromkeys(r["server"] for r in rows if r["server"] != "mailstack"))
for ref in references:
    print("\n%-64s %16s %16s %7s" % ("metric", "mailstack", ref, "ratio"))
    for r in rows:
        m = ms.get(key(r))
        if r["server"] != ref or not m:
            continue
        better_high = r["unit"] in ("MB/s", "msg/s", "ops/s")
        ratio = m["value"] / r["value"] if better_high else r["value"] / m["value"]
        print("%-64s %10.2f %-5s %10.2f %-5s %6.2fx" % (name(r), m["value"], r["unit"], r["value"], r["unit"], ratio))
print("(ratio > 1: mailstack faster)")
PY
