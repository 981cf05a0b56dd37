"""WebTransport transport over real QUIC on 127.0.0.1."""
