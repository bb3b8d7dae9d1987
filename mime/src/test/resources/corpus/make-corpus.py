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

# --- more everyday shapes, so that at least 30 messages are compared with Dovecot (issue 4)

# S/MIME-style signed mail: multipart/signed with a protocol parameter and a detached signature
w('17-multipart-signed.eml', ["""From: signer@example.org
To: you@example.net
Subject: signed
Date: Tue, 1 Dec 2026 08:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=sig

--sig
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Signed text.
--sig
Content-Type: application/pkcs7-signature; name=smime.p7s
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename=smime.p7s

""", b64(bytes(range(200))), """--sig--
"""])

# HTML only, 8-bit UTF-8, no plain-text alternative
w('18-html-only-utf8.eml', ["""From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>
To: you@example.net
Subject: =?UTF-8?Q?=E4=BD=A0=E5=A5=BD?=
Date: Wed, 2 Dec 2026 09:30:00 +0800
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><body><p>你好，世界</p></body></html>
"""])

# a PDF attachment in base64, with size and dates in its disposition
w('19-pdf-attachment.eml', ["""From: office@example.org
To: you@example.net
Subject: invoice
Date: Thu, 3 Dec 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==mix=="

--==mix==
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: 7bit

Please find the invoice attached.
--==mix==
Content-Type: application/pdf; name="invoice-2026.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="invoice-2026.pdf"; size=300

""", b64(b'%PDF-1.4\n' + bytes(range(256)) + b'\n%%EOF\n'), """--==mix==--
"""])

# every body field: Content-ID, Content-Description, Content-MD5, Content-Language, Content-Location
w('20-every-body-field.eml', ["""From: fields@example.org
To: you@example.net
Subject: body fields
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=f

--f
Content-Type: text/plain; charset=us-ascii
Content-ID: <part1@example.org>
Content-Description: the first part
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Language: en, de
Content-Location: http://example.org/part1.txt
Content-Transfer-Encoding: quoted-printable

soft=
 break and =3D sign
--f
Content-Type: text/plain; charset=us-ascii
Content-Disposition: inline
Content-Language: fr

second
--f--
"""])

# a forward of a forward: message/rfc822 inside multipart/mixed inside message/rfc822
w('21-nested-forwards.eml', ["""From: third@example.org
To: you@example.net
Subject: Fwd: Fwd: original
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

See below.
--outer
Content-Type: message/rfc822

From: second@example.org
To: third@example.org
Subject: Fwd: original
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

Forwarding.
--inner
Content-Type: message/rfc822

From: first@example.org
To: second@example.org
Subject: original
Date: Mon, 30 Nov 2026 12:00:00 +0000

The original text.
--inner--
--outer--
"""])

# ISO-2022-JP: 7-bit Japanese, subject and body
w('22-iso-2022-jp.eml', ["""From: =?ISO-2022-JP?B?""", b('山田', 'iso-2022-jp'), """?= <yamada@example.jp>
To: you@example.net
Subject: =?ISO-2022-JP?B?""", b('会議の件', 'iso-2022-jp'), """?=
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""", '明日の会議について'.encode('iso-2022-jp'), """
"""])

# every envelope field: Sender, Reply-To, Cc, Bcc, In-Reply-To, Message-ID, several To addresses
w('23-every-envelope-field.eml', ["""Date: Fri, 4 Dec 2026 16:45:00 -0500
From: Alice <alice@example.org>
Sender: Secretary <secretary@example.org>
Reply-To: replies@example.org
To: bob@example.net, "Carol C." <carol@example.net>
Cc: dave@example.net
Bcc: eve@example.net
Subject: all the fields
In-Reply-To: <earlier@example.net>
Message-ID: <all-fields@example.org>

text
"""])

# a Chinese display name in Q encoding, and an address list across folded lines
w('24-chinese-names-folded-list.eml', ["""From: =?UTF-8?Q?=E6=9D=8E=E5=9B=9B?= <lisi@example.cn>
To: =?GB2312?B?""", b('王五', 'gb2312'), """?= <wangwu@example.cn>,
 =?UTF-8?B?6LW15YWt?= <zhaoliu@example.cn>,
 plain@example.net
Subject: =?UTF-8?B?5Lit5paH5ZCN5a2X?=
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

""", b64('名字都是中文。\n'.encode('utf-8')), ""])

# alternative with plain and HTML, both GB2312 in base64 (Foxmail's shape)
w('25-alternative-gb2312-base64.eml', ["""From: foxmail@example.cn
To: you@example.net
Subject: =?gb2312?B?""", b('测试', 'gb2312'), """?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="----=_NextPart_000_0001"

This is a multi-part message in MIME format.

------=_NextPart_000_0001
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64

""", b64('纯文本部分\n'.encode('gb2312')), """
------=_NextPart_000_0001
Content-Type: text/html; charset="gb2312"
Content-Transfer-Encoding: base64

""", b64('<p>网页部分</p>\n'.encode('gb2312')), """
------=_NextPart_000_0001--
"""])

# a header and an empty body
w('26-empty-body.eml', ["""From: empty@example.org
To: you@example.net
Subject: nothing to say

"""])

# types in upper case, a bare "text" type without subtype, parameters with odd spacing
w('27-uppercase-and-odd-types.eml', ["""From: odd@example.org
Subject: odd types
MIME-Version: 1.0
Content-Type: MULTIPART/MIXED ; BOUNDARY = "b"

--b
Content-Type: TEXT/PLAIN ; CHARSET = "US-ASCII"

upper case
--b
Content-Type: text

no subtype
--b--
"""])

# a single non-text part at the top, base64
w('28-top-level-binary.eml', ["""From: scanner@example.org
To: you@example.net
Subject: scan
MIME-Version: 1.0
Content-Type: application/octet-stream; name=scan.bin
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename=scan.bin

""", b64(bytes(range(256)) * 4), ""])

# a delivery status notification (RFC 3464)
w('29-delivery-status.eml', ["""From: MAILER-DAEMON@example.org
To: alice@example.org
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=r

--r
Content-Type: text/plain

Your message could not be delivered.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; nobody@example.net
Action: failed
Status: 5.1.1
--r
Content-Type: text/rfc822-headers

From: alice@example.org
To: nobody@example.net
Subject: hello
--r--
"""])

# a calendar invitation: alternative of text and text/calendar with a method parameter
w('30-calendar-invite.eml', ["""From: organizer@example.org
To: you@example.net
Subject: Invitation: planning
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=cal

--cal
Content-Type: text/plain; charset=utf-8

Planning meeting on Monday.
--cal
Content-Type: text/calendar; charset=utf-8; method=REQUEST
Content-Transfer-Encoding: 7bit

BEGIN:VCALENDAR
METHOD:REQUEST
BEGIN:VEVENT
SUMMARY:Planning
DTSTART:20261207T090000Z
END:VEVENT
END:VCALENDAR
--cal--
"""])

# an inline image in multipart/related, referenced from the HTML by Content-ID
w('31-related-inline-image.eml', ["""From: newsletter@example.org
To: you@example.net
Subject: =?UTF-8?Q?Newsletter_=E2=80=94_December?=
MIME-Version: 1.0
Content-Type: multipart/related; type="text/html"; boundary=rel

--rel
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<img src=3D"cid:logo@example.org"> Hello
--rel
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-ID: <logo@example.org>
Content-Disposition: inline; filename=logo.png

""", b64(b'\x89PNG\r\n\x1a\n' + bytes(100)), """--rel--
"""])

# long folded header lines and a subject mixing charsets across encoded-words
w('32-long-folded-mixed-charsets.eml', ["""From: folding@example.org
To: you@example.net
Subject: =?UTF-8?B?""", b('混合', 'utf-8'), """?= =?GBK?B?""", b('字符集', 'gbk'), """?=
 =?ISO-8859-1?Q?caf=E9?= plain words and a very long tail that keeps going well past
 the seventy-eight column mark so that it has to be folded more than once
References: <a@example.org> <b@example.org> <c@example.org> <d@example.org>
 <e@example.org> <f@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Soft line breaks go here and the text is long enough to need one=
 right about now.
"""])

# a forwarded message as an attachment whose own body is plain text
w('33-attached-plain-message.eml', ["""From: forwarder@example.org
To: you@example.net
Subject: Fwd: lunch
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=fw

--fw
Content-Type: text/plain; charset=utf-8

Forwarded as an attachment.
--fw
Content-Type: message/rfc822; name="lunch.eml"
Content-Disposition: attachment; filename="lunch.eml"

From: friend@example.net
To: forwarder@example.org
Subject: lunch
Date: Sun, 29 Nov 2026 11:00:00 +0000
Message-ID: <lunch@example.net>

Noon at the usual place?

--fw--
"""])

# format=flowed with delsp, Chinese in quoted-printable
w('34-flowed-chinese-qp.eml', ["""From: flowed@example.cn
To: you@example.net
Subject: =?UTF-8?B?""", b('流式文本', 'utf-8'), """?=
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes
Content-Transfer-Encoding: quoted-printable

""", qp('这是一段很长的中文文本，用来测试软换行。 \n第二段。\n'.encode('utf-8')), ""])

# what Chinese clients send: an attachment name as an RFC 2047 word inside a quoted parameter
w('35-rfc2047-attachment-name.eml', ["""From: =?GB2312?B?""", b('客户', 'gb2312'), """?= <client@example.cn>
To: you@example.net
Subject: =?GB2312?B?""", b('合同附件', 'gb2312'), """?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_7_1"

------=_Part_7_1
Content-Type: multipart/alternative; boundary="----=_Part_8_2"

------=_Part_8_2
Content-Type: text/plain; charset=GB2312
Content-Transfer-Encoding: base64

""", b64('请查收附件。\n'.encode('gb2312')), """
------=_Part_8_2
Content-Type: text/html; charset=GB2312
Content-Transfer-Encoding: base64

""", b64('<p>请查收附件。</p>\n'.encode('gb2312')), """
------=_Part_8_2--

------=_Part_7_1
Content-Type: application/msword; name="=?GB2312?B?""", b('合同.doc', 'gb2312'), """?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="=?GB2312?B?""", b('合同.doc', 'gb2312'), """?="

""", b64(bytes(range(64))), """
------=_Part_7_1--
"""])
