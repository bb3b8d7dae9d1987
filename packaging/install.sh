#!/bin/sh
# Installs mailstack as a systemd service. Idempotent: run it again after an update.
#   sudo packaging/install.sh [--hostname mail.example.org]   (or --hostname=mail.example.org)
# DESTDIR=/some/dir stages the same tree under that folder instead (packaging, tests): no user is
# created, nothing is chowned, no private key is made (each host makes its own on its first run
# without DESTDIR) and systemd is left alone.
set -eu
src="$(cd "$(dirname "$0")/.." && pwd)"
usage() {
  echo "usage: sudo packaging/install.sh [--hostname NAME]" >&2
  exit 2
}
hostname=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hostname) [ $# -ge 2 ] && [ -n "$2" ] || usage; hostname="$2"; shift 2 ;;
    --hostname=?*) hostname="${1#--hostname=}"; shift ;;
    -h|--help) echo "usage: sudo packaging/install.sh [--hostname NAME]"; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$hostname" ] || hostname="$(hostname -f 2>/dev/null || hostname)"
root="${DESTDIR:-}"
staged() { [ -n "$root" ]; }
systemd_runs() { ! staged && [ -d /run/systemd/system ]; }

# Built (or found built) first, and its JDK checked, before anything is made on this machine.
(cd "$src" && ./mailstack --version >/dev/null)
# The JDK the launcher found here, for the service: as user mailstack, with ProtectHome=true, it
# can neither search nor read a JDK under /root or /home (SDKMAN's), so such a one is refused.
java_bin="$(cd "$src" && ./mailstack --which-java)"
java_real="$(readlink -f "$java_bin" 2>/dev/null || true)"
[ -n "$java_real" ] || java_real="$java_bin"
java_home="$(dirname "$(dirname "$java_real")")"
case "$java_home/" in
  /root/*|/home/*)
    echo "install.sh: the JDK found, $java_home, is under a home folder, which the service cannot read" \
      "(it runs as mailstack with ProtectHome=true): install a JDK 21 or newer outside /root and /home" \
      "(apt-get install openjdk-21-jdk-headless, or unpack Temurin into /opt/java/) and run" \
      "sudo JAVA_HOME=that-folder packaging/install.sh again" >&2
    exit 1 ;;
esac
if staged; then
  owner=""
else
  id mailstack >/dev/null 2>&1 || useradd --system --home-dir /var/lib/mailstack --shell /usr/sbin/nologin mailstack
  # lmtp.socket_group: the group an MTA on this machine joins to deliver over the LMTP socket,
  # rather than mailstack's own (which reads the TLS key and the mail)
  getent group mailstack-lmtp >/dev/null 2>&1 || groupadd --system mailstack-lmtp
  id -nG mailstack | tr ' ' '\n' | grep -qx mailstack-lmtp || usermod -aG mailstack-lmtp mailstack
  owner="-o mailstack -g mailstack"
fi
# no /var/log/mailstack: the service logs to the journal (journalctl -u mailstack)
# shellcheck disable=SC2086 # owner is two options or none
install -d $owner -m 0750 "$root/var/lib/mailstack"
install -d -m 0755 "$root/etc/mailstack" "$root/opt/mailstack" "$root/etc/systemd/system"

# The program: built tree (classes + libraries) and the launcher. A running server loads classes
# from this folder as it goes, so it is stopped (gracefully: SIGTERM) before the folder is replaced
# and started again after, rather than left running on a half-replaced tree.
restart=no
if systemd_runs && systemctl is-active --quiet mailstack.service; then
  echo "stopping the running mailstack for the update"
  systemctl stop mailstack.service
  restart=yes
  # whatever fails from here on, the service does not stay down
  trap 'if [ "$restart" = yes ]; then systemctl start mailstack.service || true; fi' EXIT
fi
rm -rf "$root/opt/mailstack.new" && mkdir -p "$root/opt/mailstack.new/server/target"
cp -a "$src/mailstack" "$src/README.md" "$root/opt/mailstack.new/"
# the configuration file and --help point at docs/configuration.md
mkdir -p "$root/opt/mailstack.new/docs" && cp -a "$src/docs/configuration.md" "$root/opt/mailstack.new/docs/"
cp -a "$src/server/target/classes" "$src/server/target/lib" "$root/opt/mailstack.new/server/target/"
touch "$root/opt/mailstack.new/server/target/lib/.built"
rm -rf "$root/opt/mailstack" && mv "$root/opt/mailstack.new" "$root/opt/mailstack"

# a starter configuration, never overwritten
if [ ! -f "$root/etc/mailstack/mailstack.conf" ]; then
  cat > "$root/etc/mailstack/mailstack.conf" <<CONF
# mailstack configuration; every key: /opt/mailstack/docs/configuration.md
hostname = $hostname
data_dir = /var/lib/mailstack
bind = 0.0.0.0
# Let's Encrypt layout, or: mailstack cert self-signed --host $hostname --out /etc/mailstack
tls.certificate = /etc/mailstack/fullchain.pem
tls.key = /etc/mailstack/privkey.pem
# refuse known spam sources on port 25 (needs a resolver of your own, e.g. unbound on 127.0.0.1)
# smtp.dnsbl = zen.spamhaus.org
# mail from other servers is checked (SPF, DKIM, DMARC; results in Authentication-Results);
# set these to false to only note failures instead of refusing them (or quarantining to Junk)
# smtp.spf_reject = true
# smtp.dmarc_enforce = true
# DKIM: sudo -u mailstack /opt/mailstack/mailstack dkim keygen example.org --config /etc/mailstack/mailstack.conf
# (then the same with --type ed25519 to sign with both, RFC 8463)
# empty Junk and Trash of what has lain there this many days (Dovecot's autoexpunge); 0 keeps it
# mailbox.autoexpunge_junk_days = 30
# mailbox.autoexpunge_trash_days = 30
# greylisting, as postgrey; large providers' pools listed in whitelist_clients pass at once
# smtp.greylist = true
# smtp.greylist_whitelist_clients = /etc/mailstack/whitelist_clients
# a logged-in account may send to this many recipients an hour (a stolen password's brake)
# smtp.max_recipients_per_hour = 1000
# keep Postfix in front: virtual_transport = lmtp:inet:127.0.0.1:24 there, and here
# lmtp.port = 24
# or lmtp:unix:/run/mailstack/lmtp there (usermod -aG mailstack-lmtp postfix), and here
# lmtp.socket = /run/mailstack/lmtp
# lmtp.socket_group = mailstack-lmtp
CONF
fi
# greylisting's starter list of clients (smtp.greylist_whitelist_clients), never overwritten either
if [ ! -f "$root/etc/mailstack/whitelist_clients" ]; then
  install -m 0644 "$src/packaging/whitelist_clients" "$root/etc/mailstack/whitelist_clients"
fi
if ! staged && [ ! -f /etc/mailstack/privkey.pem ]; then
  /opt/mailstack/mailstack cert self-signed --host "$hostname" --out /etc/mailstack
  chgrp mailstack /etc/mailstack/privkey.pem && chmod 0640 /etc/mailstack/privkey.pem
fi

# written at every run: the JDK found above, which the unit's EnvironmentFile hands to the launcher
printf '# written by install.sh at each run: the JDK the service runs on\nJAVA_HOME=%s\n' "$java_home" \
  > "$root/etc/mailstack/java.env"
install -m 0644 "$src/packaging/systemd/mailstack.service" "$root/etc/systemd/system/mailstack.service"
if systemd_runs; then
  systemctl daemon-reload
  systemctl enable mailstack.service
  if [ "$restart" = yes ]; then
    restart=no # started here, not by the trap
    systemctl start mailstack.service
    echo "updated and started again: logs with 'journalctl -u mailstack'"
  else
    echo "installed: start with 'systemctl start mailstack', logs with 'journalctl -u mailstack'"
  fi
elif staged; then
  echo "staged under $root"
else
  echo "installed; systemd is not running here, so the unit in /etc/systemd/system is not enabled"
fi
