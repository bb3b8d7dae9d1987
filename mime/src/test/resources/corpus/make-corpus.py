#!/usr/bin/env python3
"""Writes the *.eml corpus of MessageSummaryGoldenTest (run in this folder; python3 only).

The corpus is committed; this script says how each file was made (charsets, encodings, damage).
After changing it, regenerate the .expected files with
  mvn -pl mime test -Dtest=MessageSummaryGoldenTest -Dgolden.update=true
and review every changed line by hand before committing.
"""
import base64, quopri

def w(name, parts, crlf=True):
    data = b''.join(p if isinstance(p, bytes) else p.encode('utf-8') for p in parts)
    if crlf:
        data = data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    open(name, 'wb').write(data)

def b64(b, n=76):
    s = base64.b64encode(b).decode()
    return '\n'.join(s[i:i+n] for i in range(0, len(s), n)) + '\n'

def qp(b):
    return quopri.encodestring(b).decode().replace('\r\n', '\n')

def q(b):
    return ''.join('=%02X' % c for c in b)

def b(text, cs):
    return base64.b64encode(text.encode(cs)).decode()

w('01-simple-text.eml', ["""Return-Path: <alice@example.org>
Date: Mon, 7 Dec 2026 10:00:00 +0800
From: Alice Example <alice@example.org>
To: bob@example.net
Subject: Lunch?
Message-ID: <simple-1@example.org>

Shall we have lunch at noon?
See you.
"""])

# raw UTF-8 display name (RFC 6532), quoted-printable UTF-8 parts, an HTML comment
w('02-alternative-qp.eml', ["""From: "Zoë" <zoe@example.org>
To: Bob <bob@example.net>, carol@example.net
Cc: dave@example.com
Subject: =?UTF-8?Q?Caf=C3=A9_menu?=
Date: Tue, 8 Dec 2026 09:15:00 +0100
Message-ID: <alt-2@example.org>
In-Reply-To: <prev@example.net>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="=_alt_boundary"

This is a multi-part message in MIME format.

--=_alt_boundary
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

""", qp('Café au lait, crème brûlée.\nTotal: 12 €\n'.encode('utf-8')), """
--=_alt_boundary
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

""", qp('<html><body><p>Caf&eacute; au lait &amp; <b>crème brûlée</b></p><!-- hidden note --></body></html>\n'.encode('utf-8')), """
--=_alt_boundary--
"""])

# mixed > alternative > related, an inline image, a PDF with an RFC 2231 UTF-8 name in three sections
pdf = b'%PDF-1.4\n' + bytes(range(256)) + b'\n%%EOF\n'
png = b'\x89PNG\r\n\x1a\n' + bytes(40)
w('03-mixed-related-attachment.eml', ["""From: =?UTF-8?B?""", b('王小明', 'utf-8'), """?= <wang@example.cn>
To: team:alice@example.org, "Lee, Bo" <bo@example.org>;, boss@example.com
Subject: =?UTF-8?B?""", b('季度报告', 'utf-8'), """?=
Date: Wed, 9 Dec 2026 18:30:00 +0800
Message-ID: <mixed-3@example.cn>
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="outer-b"

--outer-b
Content-Type: multipart/alternative; boundary=alt-b

--alt-b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

""", b64('请查收附件中的季度报告。\n谢谢！\n'.encode()), """--alt-b
Content-Type: multipart/related; boundary="rel-b"; type="text/html"

--rel-b
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

""", '<p>请查收<img src="cid:logo@example.cn"></p>\n', """--rel-b
Content-Type: image/png; name=logo.png
Content-ID: <logo@example.cn>
Content-Transfer-Encoding: base64
Content-Disposition: inline; filename=logo.png

""", b64(png), """--rel-b--

--alt-b--

--outer-b
Content-Type: application/pdf; name="=?UTF-8?B?""", b('季度报告.pdf', 'utf-8'), """?="
Content-Transfer-Encoding: base64
Content-Description: Q4 report
Content-Disposition: attachment;
 filename*0*=UTF-8''%E5%AD%A3%E5%BA%A6;
 filename*1*=%E6%8A%A5%E5%91%8A;
 filename*2=".pdf"; size=300
Content-Language: zh-CN, en
Content-Location: http://example.cn/q4.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

""", b64(pdf), """--outer-b--
epilogue text
"""])

w('04-message-rfc822.eml', ["""From: forwarder@example.org
To: you@example.net
Subject: Fwd: original
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=fwd

--fwd
Content-Type: text/plain

See the forwarded message below.

--fwd
Content-Type: message/rfc822
Content-Disposition: inline

From: Original Sender <orig@example.com>
To: forwarder@example.org
Subject: original
Date: Thu, 10 Dec 2026 08:00:00 +0000
Message-ID: <orig@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=us-ascii

inner plain
--inner
Content-Type: text/html; charset=us-ascii

<i>inner html</i>
--inner--

--fwd--
"""])

# GBK text labelled gb2312 (as Outlook and Foxmail send it), quoted-printable; Q-encoded GBK subject
w('05-gbk-quoted-printable.eml', ["""From: =?gb2312?B?""", b('张三', 'gbk'), """?= <zhang@example.cn>
To: list@example.cn
Subject: =?GBK?Q?""", q('销售通知'.encode('gbk')), """?=
MIME-Version: 1.0
Content-Type: text/plain; charset=gb2312
Content-Transfer-Encoding: quoted-printable

""", qp('各位同事：\n本季度销售额增长了百分之二十。\n'.encode('gbk'))])

w('06-gbk-base64-html.eml', ["""From: sales@example.cn
To: list@example.cn
Subject: =?x-gbk?b?""", b('促销', 'gbk'), """?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="----=_NextPart_000_0001"

------=_NextPart_000_0001
Content-Type: text/plain; charset="GBK"
Content-Transfer-Encoding: base64

""", b64('全场八折，欢迎光临。\n'.encode('gbk')), """
------=_NextPart_000_0001
Content-Type: text/html; charset="GBK"
Content-Transfer-Encoding: base64

""", b64('<html><body>全场<b>八折</b>&nbsp;欢迎光临</body></html>\n'.encode('gbk')), """
------=_NextPart_000_0001--
"""])

# the first character's bytes split across two B-words, then two Q-words glued without space
u = '中文邮件主题'.encode()
w('07-subject-split-mid-character.eml', ["""From: a@example.org
To: b@example.org
Subject: =?UTF-8?B?""", base64.b64encode(u[:4]).decode(), """?=
 =?utf-8?b?""", base64.b64encode(u[4:]).decode(), """?= ok =?UTF-8?Q?""", q('测'.encode()[:2]), """?==?UTF-8?Q?""", q('测'.encode()[2:] + '试'.encode()), """?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

body
"""])

# Big5 and GB18030 (a four-byte character outside GBK) as raw 8bit parts
w('08-big5-and-gb18030.eml', ["""From: tw@example.tw
To: cn@example.cn
Subject: =?big5?B?""", b('繁體中文', 'big5'), """?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=big5
Content-Transfer-Encoding: 8bit

""", '臺灣的繁體字\n'.encode('big5'), """--b
Content-Type: text/plain; charset=GB18030
Content-Transfer-Encoding: 8bit

""", '扩展字𠮷与€\n'.encode('gb18030'), """--b--
"""])

w('09-missing-final-boundary.eml', ["""From: x@example.org
Subject: truncated
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="cut"

--cut
Content-Type: text/plain

first part
--cut
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ"""])

w('10-no-blank-line.eml', ["""From: telnet@example.org
Subject: typed by hand
this line is not a header
and the body goes on
"""])

w('11-garbage.eml', [b"From: x@example.org\r\n", b"Subj\xff\xfe broken header without colon\r\n",
                     b"Content-Type: text/plain; charset=\"utf-8\r\n", b"\r\n",
                     b"\x00\x01\x02 binary \xff\xfe\xfd garbage\r\n", b"\xc3\x28 invalid utf-8\r\n"], crlf=False)

w('12-wrong-boundary.eml', ["""From: x@example.org
Subject: wrong boundary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="declared"

--actual
Content-Type: text/plain

text under an undeclared boundary
--actual--
"""])

w('13-groups-and-odd-addresses.eml', ["""From: "Smith, John (Sales)" <john.smith@example.com>
Sender: (comment only) bare@example.com
Reply-To: =?UTF-8?B?""", b('李四', 'utf-8'), """?= <li@example.cn>
To: undisclosed-recipients:;
Cc: Friends: ann@example.org, "Ben \\"B\\" Bo" <ben@example.org>;, root
Bcc: <@relay.example:route@example.org>
Subject: addresses
Message-ID: <odd-13@example.com>

x
"""])

open('14-lf-only.eml', 'wb').write("""From: u@example.org
Subject: LF only
Content-Type: multipart/mixed; boundary=z

--z
Content-Type: text/plain; charset=utf-8

第一行
second line
--z
Content-Type: text/plain

two
--z--
""".encode())

w('15-digest.eml', ["""From: digest@example.org
Subject: digest
MIME-Version: 1.0
Content-Type: multipart/digest; boundary=d

--d

Subject: first
From: one@example.org

one
--d

Subject: second
From: two@example.org

two
--d--
"""])

# base64 cut short (last quantum incomplete); RFC 2231 Latin-1 name beside a plain fallback name
w('16-truncated-base64-and-rfc2231-latin1.eml', ["""From: x@example.org
Subject: attachment
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=t

--t
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: base64

""", base64.b64encode('Grüße aus Köln'.encode('latin-1')).decode()[:-3], """
--t
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=iso-8859-1'de'Gr%FC%DFe.txt; filename="fallback.txt"

data
--t--
"""])
