"""The baselines' server: the MC's own WebTransport layer with a trivial handler, nothing else.

``python -m meeting_controller.bench.rawserver --mode echo|fanout ...`` runs a bare
:class:`~meeting_controller.adapters.webtransport.WebTransportServer` (aioquic, the same
socket buffers and coalesced transmits as the MC) in its own process, so that a baseline
gets a core of its own exactly like the MC process it is compared with.

* ``echo``: every frame is sent straight back (join-latency and memory baselines).
* ``fanout``: sessions are grouped by the query string of their CONNECT path
  (``/bench?g=<name>``). A session's first frame is answered with an echo (its "join");
  every later frame from any member makes the server send one ``--frame-size`` frame to
  every member of the group, the shape of a mute toggle in a meeting.

The bound UDP port is written to ``--ready-file`` once the server listens; SIGTERM or SIGINT
stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

from meeting_controller.adapters.webtransport import WebTransportServer, WebTransportSession

PATH = "/bench"


class _Handlers:
    def __init__(self, frame_size: int) -> None:
        self.payload = b"\x00" * max(1, frame_size)
        self.groups: dict[str, set[WebTransportSession]] = {}

    async def echo(self, session: WebTransportSession) -> None:
        while True:
            frame = await session.recv()
            if frame is None:
                return
            await session.send(frame)

    async def fanout(self, session: WebTransportSession) -> None:
        name = session.path.partition("?")[2]
        first = await session.recv()
        if first is None:
            return
        group = self.groups.setdefault(name, set())
        group.add(session)
        try:
            await session.send(first)
            payload = self.payload
            while True:
                frame = await session.recv()
                if frame is None:
                    return
                for member in list(group):
                    try:
                        await member.send(payload)
                    except ConnectionError:
                        group.discard(member)
        finally:
            group.discard(session)
            if not group:
                self.groups.pop(name, None)


async def _serve(options: argparse.Namespace) -> None:
    handlers = _Handlers(options.frame_size)
    handler = handlers.echo if options.mode == "echo" else handlers.fanout
    server = WebTransportServer(
        host=options.host,
        port=0,
        certificate_file=options.cert,
        private_key_file=options.key,
        on_session=handler,
        path=PATH,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    try:
        await asyncio.to_thread(Path(options.ready_file).write_text, f"{server.port}\n")
        await stop.wait()
    finally:
        await server.stop(timeout=1.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meeting_controller.bench.rawserver")
    parser.add_argument("--mode", choices=("echo", "fanout"), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--frame-size", type=int, default=64)
    parser.add_argument("--ready-file", required=True)
    options = parser.parse_args(argv)
    asyncio.run(_serve(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
