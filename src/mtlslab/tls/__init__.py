"""The TLS wire format: records, handshake messages, key schedules and signature checks.

Covers TLS 1.2 (RFC 5246) and TLS 1.3 (RFC 8446), the versions the kit's peers speak.
Every parser works on bytes and raises :class:`~mtlslab.tls.wire.ParseError` for input it
cannot read, so that a dissector can record the problem and keep going.
"""
