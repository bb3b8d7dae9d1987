#!/usr/bin/python3
# Makes the DKIM fixtures of DkimVerifierTest with dkimpy (Debian: python3-dkim python3-nacl),
# a signer independent of ours. Run from this folder; it rewrites *.eml and keys.txt.
import base64, subprocess, tempfile, os, dkim

MESSAGE = (b"From: Li Wei <li.wei@example.com>\r\n"
           b"To: zhang@mail.example.test\r\n"
           b"Subject: =?UTF-8?B?5L2g5aW977yM5LiW55WM?=\r\n"
           b"Date: Sun, 06 Dec 2026 08:00:00 +0800\r\n"
           b"Message-ID: <fixture-1@example.com>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=UTF-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n"
           b"\r\n"
           b"Hello,  \t world  \r\n"
           b"\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\r\n"
           b"\r\n"
           b"  indented line\r\n"
           b"\r\n"
           b"\r\n")

tmp = tempfile.mkdtemp()
subprocess.run(["dknewkey", "--ktype", "rsa", os.path.join(tmp, "rsa")], check=True, capture_output=True)
subprocess.run(["dknewkey", "--ktype", "ed25519", os.path.join(tmp, "ed")], check=True, capture_output=True)
rsa_key = open(os.path.join(tmp, "rsa.key"), "rb").read()
ed_key = open(os.path.join(tmp, "ed.key"), "rb").read()
with open("keys.txt", "w") as out:
    for name, sel in (("rsa", b"rsa"), ("ed", b"ed")):
        out.write(sel.decode() + "._domainkey.example.com\t" + open(os.path.join(tmp, name + ".dns")).read().strip() + "\n")

def write(name, signature):
    with open(name, "wb") as f:
        f.write(signature + MESSAGE)

write("rsa-relaxed.eml", dkim.sign(MESSAGE, b"rsa", b"example.com", rsa_key,
                                   canonicalize=(b"relaxed", b"relaxed")))
write("rsa-simple.eml", dkim.sign(MESSAGE, b"rsa", b"example.com", rsa_key,
                                  canonicalize=(b"simple", b"simple")))
write("rsa-length.eml", dkim.sign(MESSAGE, b"rsa", b"example.com", rsa_key,
                                  canonicalize=(b"relaxed", b"simple"), length=True))
write("ed25519.eml", dkim.sign(MESSAGE, b"ed", b"example.com", ed_key,
                               canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"ed25519-sha256"))
