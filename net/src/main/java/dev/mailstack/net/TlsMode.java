package dev.mailstack.net;

/** How an endpoint uses TLS: not at all, upgraded by STARTTLS/STLS, or from the first byte (465, 993, 995). */
public enum TlsMode { NONE, STARTTLS, IMPLICIT }
