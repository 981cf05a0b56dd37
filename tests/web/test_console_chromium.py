"""The web console in headless Chromium, over real WebTransport, against a live fleet.

Real MC processes, the reference GC and Redis (the e2e ``fleet`` fixture), Python participants
(:class:`MeetingClient`), the console served by :func:`serve_console` on 127.0.0.1, and the
Debian ``chromium`` package driven over the DevTools protocol (``tests/web/browser.py``). The
test types into the page's form and clicks its buttons like a user, and reads what the page
shows (roster rows, icons and their tooltips, the status pill) from the DOM.

When ``/usr/bin/chromium`` is missing the tests skip, except under ``CI`` where they fail:
``scripts/install-chromium.sh`` installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from meeting_controller.client.meeting import MeetingClient
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.webconsole import ConsoleServer, serve_console
from tests.e2e.conftest import ADMIN_TOKEN, Fleet
from tests.web.browser import Browser, require_chromium

#: Everything the page shows that the tests look at, read from the DOM.
PAGE_STATE = """(() => {
  const text = (id) => document.getElementById(id).textContent;
  const rows = [...document.querySelectorAll('#roster-body tr')].map((row) => ({
    id: row.dataset.participantId,
    name: row.dataset.name,
    self: row.classList.contains('self'),
    role: row.children[1].textContent,
    selfMuted: row.dataset.selfMuted === 'true',
    hostMuted: row.dataset.hostMuted === 'true',
    muteIcon: row.querySelector('.icon-self-muted')?.dataset.icon ?? null,
    lockIcon: row.querySelector('.icon-host-muted')?.dataset.icon ?? null,
    lockTooltip: row.querySelector('.icon-host-muted')?.title ?? null,
    action: row.querySelector('button[data-action]')?.textContent ?? null,
  }));
  return {
    status: document.getElementById('status').dataset.state,
    endpoint: text('endpoint'),
    redirects: Number(text('redirects')),
    lastSeq: Number(text('last-seq')),
    error: document.getElementById('error').hidden
      ? null : text('error-title') + ' ' + text('error-text'),
    notice: document.getElementById('notice').hidden ? null : text('notice'),
    askUnmuteVisible: !document.getElementById('ask-unmute').hidden,
    muteSelfText: text('mute-self'),
    requests: [...document.querySelectorAll('#request-list li')]
      .map((li) => li.dataset.participantId),
    log: [...document.querySelectorAll('#log li')].map((li) => li.textContent).reverse(),
    rows,
  };
})()"""

State = dict[str, Any]


class Page:
    """The console page in the browser, as a user sees and uses it."""

    def __init__(self, browser: Browser, artifacts: Path) -> None:
        self.browser = browser
        self.artifacts = artifacts

    async def state(self) -> State:
        loaded = "document.readyState === 'complete' && !!document.getElementById('status')"
        if not await self.browser.evaluate(loaded):
            return {"status": "loading", "rows": []}
        state: State = await self.browser.evaluate(PAGE_STATE)
        return state

    async def wait_for(
        self, what: str, predicate: Callable[[State], bool], *, timeout: float = 20.0
    ) -> State:
        deadline = time.monotonic() + timeout
        while True:
            state = await self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                await self.browser.screenshot(self.artifacts / "failure.png")
                raise AssertionError(
                    f"the page never showed {what} within {timeout} s.\n"
                    f"page: {json.dumps(state, indent=1)}\n"
                    f"console: {self.browser.console}\n"
                    f"screenshot: {self.artifacts / 'failure.png'}"
                )
            await asyncio.sleep(0.1)

    async def join(self, *, name: str, meeting_id: str = "", role: str = "") -> None:
        await self.fill(**{"display-name": name, "meeting-id": meeting_id, "role": role})
        await self.browser.evaluate("document.getElementById('join-form').requestSubmit()")

    async def fill(self, **fields: str) -> None:
        for element_id, value in fields.items():
            await self.browser.evaluate(
                f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}"
            )

    async def click(self, selector: str) -> None:
        clicked = await self.browser.evaluate(
            f"(() => {{ const b = document.querySelector({json.dumps(selector)});"
            " if (!b || b.disabled || b.closest('[hidden]')) return false;"
            " b.click(); return true; })()"
        )
        assert clicked, f"no enabled, visible {selector} to click"


def row(state: State, name: str) -> State:
    """The roster row of ``name`` (empty when the page shows none)."""
    found: State = next((r for r in state["rows"] if r["name"] == name), {})
    return found


def names(state: State) -> list[str]:
    return sorted(r["name"] for r in state["rows"])


async def expect(
    client: MeetingClient, kind: str, predicate: Callable[[Any], bool] = lambda _: True
) -> Any:
    """The next event of ``kind`` (its payload) that satisfies ``predicate``."""
    async with asyncio.timeout(20):
        while True:
            event = await client.next_event(timeout=20)
            if event.WhichOneof("payload") == kind and predicate(getattr(event, kind)):
                return getattr(event, kind)


async def settle(client: MeetingClient, nonce: int) -> None:
    """The client answers a ping on its current connection (it finished any resume)."""
    async with asyncio.timeout(30):
        while True:
            with contextlib.suppress(ConnectionError, OSError):
                await client.ping(nonce)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    while True:
                        event = await client.next_event(timeout=1.0)
                        if event.WhichOneof("payload") == "pong" and event.pong.nonce == nonce:
                            return


def endpoint_of(fleet: Fleet, mc_id: str) -> str:
    """The WebTransport endpoint an MC advertises (as the GC lists it)."""
    record = next(r for r in fleet.gc.fleet() if r["mc_id"] == mc_id)
    endpoint: str = record["webtransport_endpoint"]
    return endpoint


async def drain(fleet: Fleet, mc_id: str) -> None:
    """Drain an MC through its admin RPC (live migration) and wait until it exited cleanly."""
    mc = fleet.mcs[mc_id]
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{mc.ports['grpc']}")
    try:
        await internal_pb2_grpc.MeetingControllerServiceStub(channel).Drain(
            internal_pb2.DrainRequest(
                deadline_unix_ms=int((time.time() + 60) * 1000), reason="browser test"
            ),
            metadata=(("authorization", "Bearer " + ADMIN_TOKEN.decode()),),
        )
    finally:
        await channel.close(None)
    assert await asyncio.to_thread(mc.wait, timeout=60) == 0, mc.stderr()
    assert "1 migrated, 0 closed" in mc.stderr()


async def with_page(
    fleet: Fleet, tmp_path: Path, scenario: Callable[[Page, ConsoleServer], Awaitable[None]]
) -> None:
    chromium = require_chromium()
    with serve_console(
        "127.0.0.1", 0, gc_url=fleet.gc.http_url, certificate_hashes=[fleet.cert.sha256]
    ) as console:
        async with Browser(
            chromium, profile=tmp_path / "profile", log_file=tmp_path / "chromium.log"
        ) as browser:
            await browser.open(console.url)
            page = Page(browser, tmp_path)
            await page.wait_for("the join form", lambda s: s["status"] == "idle")
            await scenario(page, console)
            await page.click("#leave")  # the meeting can end: the MCs stop at once afterwards
            await browser.screenshot(tmp_path / "console.png")


async def test_console_joins_is_host_muted_and_follows_a_live_drain(
    fleet: Fleet, tmp_path: Path
) -> None:
    fleet.start_mc("mc-1")
    fleet.start_mc("mc-2")
    alice = await fleet.participant("alice")  # creates the meeting: the host
    bob = await fleet.participant("bob", meeting_id=alice.ticket.meeting_id)
    meeting_id = alice.ticket.meeting_id
    source = alice.ticket.mc_id
    target = next(mc_id for mc_id in fleet.mcs if mc_id != source)

    async def scenario(page: Page, console: ConsoleServer) -> None:
        # The page joins by meeting id and name, and sees the Python participants.
        await page.join(name="carol", meeting_id=meeting_id)
        state = await page.wait_for(
            "a roster of alice, bob and carol",
            lambda s: s["status"] == "connected" and names(s) == ["alice", "bob", "carol"],
        )
        assert state["endpoint"] == alice.ticket.mc_endpoint
        assert row(state, "alice")["role"] == "host"
        assert not row(state, "alice")["self"]
        assert row(state, "carol")["self"]
        assert state["error"] is None

        def is_carol(joined: Any) -> bool:
            return bool(joined.participant.display_name == "carol")

        carol = (await expect(alice, "participant_joined", is_carol)).participant.participant_id
        assert carol == row(state, "carol")["id"]
        await expect(bob, "participant_joined", is_carol)

        # Carol mutes herself from the page; the Python host sees it.
        await page.click("#mute-self")
        await page.wait_for("carol's mute icon", lambda s: bool(row(s, "carol").get("selfMuted")))
        await expect(alice, "mute_update", lambda u: u.participant_id == carol and u.is_self_muted)
        # The Python host mutes carol: the page shows the lock, with the override tooltip.
        await alice.host_mute(carol)
        state = await page.wait_for(
            "the lock on carol's own row",
            lambda s: row(s, "carol").get("lockIcon") == "🔒",
        )
        me = row(state, "carol")
        assert me["selfMuted"]
        assert me["hostMuted"]
        assert me["muteIcon"] == "🔇"
        assert "overrides" in me["lockTooltip"]
        assert state["askUnmuteVisible"]
        # Bob mutes himself: the mute icon (no lock) appears on his row.
        await bob.mute(True)
        state = await page.wait_for(
            "bob's mute icon", lambda s: row(s, "bob").get("muteIcon") == "🔇"
        )
        assert row(state, "bob")["lockIcon"] is None
        await page.browser.screenshot(tmp_path / "host-muted.png")
        # Carol asks to be unmuted; the host denies; the page says so.
        await page.click("#ask-unmute")
        request = await expect(alice, "unmute_requested")
        assert request.participant_id == carol
        await alice.decide_unmute(carol, approved=False)
        await page.wait_for("the denial", lambda s: "denied" in (s["notice"] or ""))

        # The MC hosting the meeting is drained: the meeting moves live, the page follows.
        before = await page.state()
        started = time.monotonic()
        await drain(fleet, source)
        target_endpoint = endpoint_of(fleet, target)
        state = await page.wait_for(
            f"the page connected to {target}",
            lambda s: s["status"] == "connected" and s["endpoint"] == target_endpoint,
            timeout=30,
        )
        print(f"\nthe page followed the drain of {source} in {time.monotonic() - started:.2f} s")
        assert state["redirects"] >= 1, (
            "the page resumed on the new MC but never saw the RedirectToMc: Chromium drops stream "
            "data it has not handed to the page yet when the session's close capsule arrives in "
            "the same flight; the MC must let the redirect be delivered before it closes the "
            "session.\npage log:\n" + "\n".join(state["log"])
        )
        assert state["endpoint"] != alice.ticket.mc_endpoint
        assert state["error"] is None, state["error"]
        assert names(state) == ["alice", "bob", "carol"]
        assert state["lastSeq"] >= before["lastSeq"]
        me = row(state, "carol")
        assert me["hostMuted"]
        assert me["selfMuted"]
        assert me["lockIcon"] == "🔒"
        churn = [line for line in state["log"] if re.search(r"#\d+ \S+ (joined|left \()", line)]
        assert not churn, "nobody leaves or joins during a live migration"

        # Still in the meeting on the new MC: updates flow both ways.
        await settle(alice, 1)
        await settle(bob, 2)
        await alice.host_mute(carol, muted=False)
        await bob.mute(False)
        state = await page.wait_for(
            "the host-mute lifted and bob unmuted",
            lambda s: (
                row(s, "carol").get("hostMuted") is False
                and row(s, "bob").get("selfMuted") is False
            ),
        )
        assert row(state, "carol")["lockIcon"] is None
        await page.click("#mute-self")  # carol unmutes herself, through the new MC
        await expect(
            alice, "mute_update", lambda u: u.participant_id == carol and not u.is_self_muted
        )
        assert alice.endpoint == state["endpoint"]
        for client in (alice, bob):
            kinds = [e.WhichOneof("payload") for e in client.pending_events()]
            assert "participant_left" not in kinds
            assert client.sequence_log == list(range(1, client.last_sequence + 1))

    try:
        await with_page(fleet, tmp_path, scenario)
    finally:
        await alice.leave()
        await bob.leave()


async def test_console_as_host_mutes_others_and_answers_unmute_requests(
    fleet: Fleet, tmp_path: Path
) -> None:
    fleet.start_mc("mc-1")

    async def scenario(page: Page, console: ConsoleServer) -> None:
        # A refused join is shown plainly (a join "by hand" with a bogus token).
        endpoint = endpoint_of(fleet, "mc-1")
        await page.fill(
            **{
                "manual-endpoint": endpoint,
                "manual-token": "not-a-jwt",
                "manual-cert": fleet.cert.sha256_hex,
            }
        )
        await page.join(name="eve", meeting_id="nowhere")
        state = await page.wait_for("the refused join", lambda s: s["error"] is not None)
        assert "INVALID_JOIN_TOKEN" in state["error"], state["error"]
        assert state["status"] == "failed"
        await page.fill(**{"manual-endpoint": "", "manual-token": "", "manual-cert": ""})

        # The page starts a new meeting (empty meeting id): it is the host.
        await page.join(name="hana")
        state = await page.wait_for(
            "the page as host", lambda s: s["status"] == "connected" and names(s) == ["hana"]
        )
        assert state["error"] is None
        assert row(state, "hana")["role"] == "host"
        meeting_id = await page.browser.evaluate("document.getElementById('meeting-id').value")
        dave = await fleet.participant("dave", meeting_id=meeting_id)
        try:
            await page.wait_for("dave in the roster", lambda s: names(s) == ["dave", "hana"])
            # The host mutes dave with the row's button.
            await page.click(f"tr[data-participant-id='{dave.participant_id}'] button")
            update = await expect(dave, "mute_update", lambda u: u.is_host_muted)
            assert update.participant_id == dave.participant_id
            await page.wait_for("dave's lock", lambda s: row(s, "dave").get("lockIcon") == "🔒")
            # Dave asks to be unmuted: the request shows up; the host approves with a click.
            await dave.request_unmute("my turn")
            await page.wait_for(
                "dave's unmute request", lambda s: s["requests"] == [dave.participant_id]
            )
            await page.click("#request-list button[data-action='approve']")
            await expect(dave, "mute_update", lambda u: not u.is_host_muted)
            state = await page.wait_for(
                "dave unmuted", lambda s: row(s, "dave").get("lockIcon", "?") is None
            )
            assert state["requests"] == []
            assert row(state, "dave")["action"] == "Mute"
            # A participant who tries a host's action gets an error; nothing changes.
            await dave.host_mute(row(state, "hana")["id"])
            error = await expect(dave, "error")
            assert error.code == sig.ERROR_CODE_PERMISSION_DENIED
        finally:
            await dave.leave()

    await with_page(fleet, tmp_path, scenario)
