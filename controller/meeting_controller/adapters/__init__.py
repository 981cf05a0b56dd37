"""Adapters: the only modules that touch sockets and I/O libraries.

Each adapter is thin glue between a transport (HTTP, gRPC, WebTransport, Redis, ...) and the
pure core, and translates its library's errors into ``meeting_controller.errors`` at the
boundary.
"""
