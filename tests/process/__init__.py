"""Tests of the meeting-controller process: CLI, `run`, the HTTP endpoint and the demo."""
