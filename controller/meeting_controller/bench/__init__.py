"""``meeting-controller bench`` (``make bench``): how fast, next to the libraries underneath.

Each benchmark measures the project and, in the same run, the raw limit of the library it
stands on, and reports the ratio with its goal:

* ``fanout`` - events delivered per second in meetings of 10 and 50 vs. a bare aioquic
  WebTransport server pushing same-size frames (goal >= 0.5);
* ``join`` - join latency p50/p99 with 200 concurrent joins vs. bare session setup plus one
  request/response (goal p99 <= 3x);
* ``redis`` - fenced Redis writes per second vs. bare EVALSHA of a trivial script (>= 0.7);
* ``drain`` - live migration of 20 meetings x 5 off one of 3 MCs vs. the same clients'
  bare reconnect and resume (goal <= 1.5x);
* ``memory`` - RSS per connected idle participant (vs. per bare session, for reference);
* ``planner`` - the operator's planner for 1,000 pods (time per plan).

Results go to ``bench/results.json``, ``bench/RESULTS.md`` and ``bench/ratios.png``
(``--out`` to change). See :func:`main`.
"""

from __future__ import annotations

from meeting_controller.bench.runner import main

__all__ = ["main"]
