"""Fixtures shared by the whole suite.

Servers the tests need (Redis, the reference GC, MC processes) are real, listen on 127.0.0.1
only, on free ports, and are stopped by the fixture that started them (by PID).
"""
