#!/bin/sh
# Runs ../shared/thunderbird/run.sh once against a fresh mailstack store and, if step d.2 (move a
# message into 工作) has not finished 20 s after d.1, saves a thread dump of the server. Written to
# chase the d.2 stall of NOTES.md (issue 7).   bench/thunderbird-hang-hunt.sh RUN-NUMBER
# Output under /tmp/tb: sRUN/ (harness), sRUN.out, server-sRUN.log, dumpRUN.txt (only on a stall).
# Readable transcripts: TB_IMAP_HIDE_CAPS=COMPRESS=DEFLATE (the proxy then logs plain IMAP);
# Thunderbird's own log: MOZ_LOG=timestamp,IMAP:5 MOZ_LOG_FILE=/tmp/tb/mozlog (both pass through).
set -u
run=$1
cd "$(dirname "$0")/.."
mkdir -p /tmp/tb
[ -f /tmp/tb/users.txt ] || { i=1; while [ $i -le 50 ]; do echo "user$i@example.test secret"; i=$((i + 1)); done > /tmp/tb/users.txt; }
pkill -f "mail.example.test"; sleep 1
rm -f /tmp/tb/server-s$run.log  # a log of an earlier run would say "ready" at once
rm -rf /tmp/tb/fresh
./mailstack domain add example.test --data /tmp/tb/fresh >/dev/null || exit 1
./mailstack user import /tmp/tb/users.txt --data /tmp/tb/fresh >/dev/null || exit 1
# a quota, so that Thunderbird's GETQUOTAROOT gets a root and a QUOTA response to read (RFC 9208)
./mailstack user quota user40@example.test 1G --data /tmp/tb/fresh >/dev/null || exit 1
# a DKIM key, so that what Thunderbird sends goes through the signing path (RFC 6376)
./mailstack dkim keygen example.test --data /tmp/tb/fresh >/dev/null || exit 1
nohup ./mailstack serve --data /tmp/tb/fresh --hostname mail.example.test --smtp-port 10025 --submission-port 10587 --imap-port 10143 --pop3-port 10110 > /tmp/tb/server-s$run.log 2>&1 &
i=0; until grep -q "ready hostname" /tmp/tb/server-s$run.log; do sleep 0.5; i=$((i+1)); [ $i -gt 120 ] && exit 1; done
pid=$(pgrep -f "mail.example.test" | head -1)
(cd ../shared/thunderbird && PYTHONUNBUFFERED=1 timeout 600 ./run.sh 127.0.0.1 10143 10110 10025 user40@example.test secret /tmp/tb/s$run > /tmp/tb/s$run.out 2>&1) &
tb=$!
i=0; until grep -q "d.1 create folder" /tmp/tb/s$run.out; do sleep 1; i=$((i+1)); [ $i -gt 200 ] && break; done
sleep 20
if ! grep -q " d.2 move" /tmp/tb/s$run.out; then
  echo "HUNG $run"
  jdk="$(dirname "$(readlink -f /proc/$pid/exe)")"   # the server's own JDK, whatever java is on PATH
  "$jdk/jcmd" $pid Thread.dump_to_file -format=text /tmp/tb/dump$run.txt >/dev/null
fi
wait $tb
grep -E "FAIL|passed" /tmp/tb/s$run.out
pkill -f "mail.example.test"
