"""ICE settings for /live: environment, secrets, defaults, validation, the loopback-only mode."""

from __future__ import annotations

import asyncio
import json

import pytest

from mask_detector.app import ice


def test_ice_servers_default_to_public_stun() -> None:
    assert ice.ice_servers({}) == [{"urls": ["stun:stun.l.google.com:19302"]}]
    assert ice.ice_servers({}, secrets={}) == ice.DEFAULT_ICE_SERVERS


def test_ice_servers_from_env_win_over_secrets() -> None:
    turn = {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}
    secrets = {"ice_servers": [{"urls": "stun:stun.example.org:3478"}]}
    env = {ice.ENV_ICE_SERVERS: json.dumps([turn])}
    assert ice.ice_servers(env, secrets) == [turn]
    assert ice.ice_servers({}, secrets) == [{"urls": "stun:stun.example.org:3478"}]
    assert ice.ice_servers({ice.ENV_ICE_SERVERS: "[]"}) == []
    assert ice.ice_servers({ice.ENV_ICE_SERVERS: '{"iceServers": []}'}) == []


@pytest.mark.parametrize("bad", ["not json", '[{"username": "u"}]', '"stun:x"', "[1]"])
def test_invalid_ice_servers_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        ice.ice_servers({ice.ENV_ICE_SERVERS: bad})


def test_loopback_mode_has_no_ice_servers_and_keeps_aioice_on_127_0_0_1(monkeypatch) -> None:
    import aioice.ice
    from aioice import Candidate

    # Undo the process-wide patch after the test.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    monkeypatch.setattr(
        aioice.ice.Connection, "add_remote_candidate", aioice.ice.Connection.add_remote_candidate
    )
    monkeypatch.setattr(ice, "_loopback_enabled", False)

    env = {ice.ENV_TEST_LOOPBACK_ICE: "1", ice.ENV_ICE_SERVERS: '[{"urls": "stun:x:1"}]'}
    assert ice.rtc_configuration(env) == {"iceServers": []}
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1"]

    def candidate(host: str) -> Candidate:
        return Candidate("1", 1, "udp", 2130706431, host, 40000, "host")

    async def check() -> list[str]:
        conn = aioice.ice.Connection(ice_controlling=False)
        try:
            await conn.gather_candidates()
            assert {c.host for c in conn.local_candidates} == {"127.0.0.1"}
            for host in ("192.0.2.7", "abcd.local", "127.0.0.1"):
                await conn.add_remote_candidate(candidate(host))
            return [c.host for c in conn.remote_candidates]
        finally:
            await conn.close()

    assert asyncio.run(check()) == ["127.0.0.1"]


def test_relay_policy_from_env_or_secrets_reaches_the_browser_configuration() -> None:
    turn = [{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]
    env = {ice.ENV_ICE_SERVERS: json.dumps(turn), ice.ENV_ICE_TRANSPORT_POLICY: "relay"}
    assert ice.rtc_configuration(env) == {"iceServers": turn, "iceTransportPolicy": "relay"}
    secrets = {"ice_servers": turn, "ice_transport_policy": "relay"}
    assert ice.rtc_configuration({}, secrets)["iceTransportPolicy"] == "relay"
    assert "iceTransportPolicy" not in ice.rtc_configuration({ice.ENV_ICE_SERVERS: "[]"})
    assert ice.transport_policy({ice.ENV_ICE_TRANSPORT_POLICY: "all"}, secrets) == "all"
    with pytest.raises(ValueError, match="transport policy 'turn-only'"):
        ice.rtc_configuration({ice.ENV_ICE_TRANSPORT_POLICY: "turn-only"})
