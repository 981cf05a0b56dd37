"""Clients of the Meeting Controller: the WebTransport transport, then the signaling client."""
