"""mtlslab: a workshop kit that teaches mutual TLS with real certificates and real handshakes."""

__version__ = "0.1.0"
