#!/bin/sh
# Installs mailstack as a systemd service. Idempotent: run it again after an update.
#   sudo packaging/install.sh [--hostname mail.example.org]
set -eu
src="$(cd "$(dirname "$0")/.." && pwd)"
hostname="$(hostname -f 2>/dev/null || hostname)"
[ "${1:-}" = "--hostname" ] && hostname="$2"

id mailstack >/dev/null 2>&1 || useradd --system --home-dir /var/lib/mailstack --shell /usr/sbin/nologin mailstack
install -d -o mailstack -g mailstack -m 0750 /var/lib/mailstack /var/log/mailstack
install -d -m 0755 /etc/mailstack /opt/mailstack

# the program: built tree (classes + libraries) and the launcher
(cd "$src" && ./mailstack --version >/dev/null)
rm -rf /opt/mailstack.new && mkdir -p /opt/mailstack.new
cp -a "$src/mailstack" "$src/README.md" /opt/mailstack.new/
mkdir -p /opt/mailstack.new/server/target
cp -a "$src/server/target/classes" "$src/server/target/lib" /opt/mailstack.new/server/target/
touch /opt/mailstack.new/server/target/lib/.built
rm -rf /opt/mailstack && mv /opt/mailstack.new /opt/mailstack

# a starter configuration, never overwritten
if [ ! -f /etc/mailstack/mailstack.conf ]; then
  cat > /etc/mailstack/mailstack.conf <<CONF
# mailstack configuration; every key: docs/configuration.md
hostname = $hostname
data_dir = /var/lib/mailstack
bind = 0.0.0.0
# Let's Encrypt layout, or: mailstack cert self-signed --host $hostname --out /etc/mailstack
tls.certificate = /etc/mailstack/fullchain.pem
tls.key = /etc/mailstack/privkey.pem
CONF
fi
if [ ! -f /etc/mailstack/privkey.pem ]; then
  /opt/mailstack/mailstack cert self-signed --host "$hostname" --out /etc/mailstack
  chgrp mailstack /etc/mailstack/privkey.pem && chmod 0640 /etc/mailstack/privkey.pem
fi

install -m 0644 "$src/packaging/systemd/mailstack.service" /etc/systemd/system/mailstack.service
systemctl daemon-reload
systemctl enable mailstack.service
echo "installed: start with 'systemctl start mailstack', logs with 'journalctl -u mailstack'"
