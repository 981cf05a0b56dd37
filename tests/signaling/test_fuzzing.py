"""Random and mutated frames never crash the MC nor change the meeting."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meeting_controller.actors import controller
from meeting_controller.actors.meeting import MeetingServices
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.signaling import GatewayConfig, SignalingGateway
from meeting_controller.tokens import join as join_tokens
from tests.signaling.conftest import NOW, SECRET, Clock
from tests.support.transports import MemoryTransport

VALID = [
    sig.ClientMessage(mute=sig.MuteRequest(muted=True)).SerializeToString(),
    sig.ClientMessage(
        host_mute=sig.HostMuteRequest(target_participant_id="x", muted=True)
    ).SerializeToString(),
    sig.ClientMessage(
        unmute_decision=sig.UnmuteDecision(participant_id="p", approved=True)
    ).SerializeToString(),
    sig.ClientMessage(
        join=sig.JoinRequest(meeting_id="m", session_token="a.b")
    ).SerializeToString(),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid client message with a few bytes flipped or cut off."""
    base = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if base and draw(st.booleans()):
            index = draw(st.integers(min_value=0, max_value=len(base) - 1))
            base[index] = draw(st.integers(min_value=0, max_value=255))
        else:
            base = base[: draw(st.integers(min_value=0, max_value=len(base)))]
    return bytes(base)


frames = st.one_of(st.binary(max_size=200), mutated())


async def scenario(pre_join: list[bytes], post_join: list[bytes]) -> None:
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    mc = controller.spawn_controller(
        mc_id="mc",
        region="r",
        max_meetings=5,
        max_participants=50,
        services=MeetingServices(session_secret=SECRET, wall_clock=clock),
    )
    gateway = SignalingGateway(
        controller=mc,
        config=GatewayConfig(
            join_token_key=key.public_key(), session_secret=SECRET, wall_clock=clock
        ),
    )
    try:
        await mc.create_meeting("m", generation=1)

        def token(user: str, role: join_tokens.Role) -> str:
            return join_tokens.issue_join_token(
                signing_key=key, user_id=user, meeting_id="m", role=role, now=NOW, ttl_seconds=60
            )[0]

        witness = MemoryTransport()
        witness.client_send(
            sig.ClientMessage(join=sig.JoinRequest(meeting_id="m", join_token=token("w", "host")))
        )
        sessions = [asyncio.create_task(gateway.handle_session(witness))]
        await witness.next()

        # A stranger sends garbage before (or instead of) joining.
        stranger = MemoryTransport()
        for frame in pre_join:
            stranger.client_send_raw(frame)
        stranger.client_hang_up()
        await gateway.handle_session(stranger)

        # A joined participant sends garbage afterwards.
        fuzzer = MemoryTransport()
        fuzzer.client_send(
            sig.ClientMessage(
                join=sig.JoinRequest(meeting_id="m", join_token=token("f", "participant"))
            )
        )
        sessions.append(asyncio.create_task(gateway.handle_session(fuzzer)))
        for frame in post_join:
            fuzzer.client_send_raw(frame)
        fuzzer.client_send(sig.ClientMessage(ping=sig.Ping(nonce=424242)))
        while True:
            answer = await fuzzer.next()
            if answer.WhichOneof("payload") == "pong" and answer.pong.nonce == 424242:
                break
        # The meeting still works and the witness's state is untouched by the fuzzer.
        witness.client_send(sig.ClientMessage(ping=sig.Ping(nonce=7)))
        while (await witness.next()).WhichOneof("payload") != "pong":
            pass
        snapshot = await mc.get_meeting("m")
        assert snapshot is not None
        assert snapshot.participants == 2
        assert mc.get_status().actor_failures == 0
        host = await mc.meeting("m")
        assert host is not None
    finally:
        await mc.shutdown()
    await asyncio.wait_for(asyncio.gather(*sessions), timeout=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pre_join=st.lists(frames, max_size=4), post_join=st.lists(frames, max_size=8))
def test_random_and_mutated_frames_never_crash_nor_corrupt(
    pre_join: list[bytes], post_join: list[bytes]
) -> None:
    asyncio.run(scenario(pre_join, post_join))
