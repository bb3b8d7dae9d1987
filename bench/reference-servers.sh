#!/bin/sh
# Reference servers for side-by-side figures (issue 9): Dovecot on loopback high ports with the
# benchmark's users (user1..user50@example.test / secret), mail kept under /tmp, nothing leaving
# the machine.   bench/reference-servers.sh start|stop
set -eu
root=/tmp/mailstack-reference
case "${1:-}" in
start)
  command -v dovecot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-pop3d
  mkdir -p "$root/mail" "$root/run"
  chmod 0777 "$root" "$root/mail"
  : > "$root/users"
  i=1
  while [ $i -le 50 ]; do
    echo "user$i@example.test:{PLAIN}secret:65534:65534::$root/mail/user$i" >> "$root/users"
    i=$((i + 1))
  done
  cat > "$root/dovecot.conf" <<CONF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $root/run
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $root/users
}
userdb {
  driver = passwd-file
  args = $root/users
}
service imap-login {
  inet_listener imap {
    port = 20143
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 20110
  }
  inet_listener pop3s {
    port = 0
  }
}
log_path = $root/dovecot.log
protocol imap {
  mail_max_userip_connections = 2000
}
protocol pop3 {
  mail_max_userip_connections = 100
}
pop3_uidl_format = %08Xu%08Xv
CONF
  dovecot -c "$root/dovecot.conf"
  echo "dovecot: imap 127.0.0.1:20143 pop3 127.0.0.1:20110"
  ;;
stop)
  [ -f "$root/dovecot.conf" ] && dovecot -c "$root/dovecot.conf" stop || true
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
