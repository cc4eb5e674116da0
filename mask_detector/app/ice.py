"""ICE servers (STUN / TURN) for the /live page's WebRTC connection, and the tests' loopback mode.

Read from the environment (MASK_DETECTOR_ICE_SERVERS, MASK_DETECTOR_ICE_TRANSPORT_POLICY) or
st.secrets, which the page passes in; no streamlit import here. `enable_loopback_ice` is for
tests only: it patches aiortc's ICE so that nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

#: JSON list of RTCIceServer dicts ({"urls": ..., "username": ..., "credential": ...}).
ENV_ICE_SERVERS = "MASK_DETECTOR_ICE_SERVERS"
#: Test-only: "1" keeps the server's ICE on 127.0.0.1 (no STUN, no other interface).
ENV_TEST_LOOPBACK_ICE = "MASK_DETECTOR_TEST_LOOPBACK_ICE"
#: st.secrets key holding the same list as ENV_ICE_SERVERS (e.g. TURN credentials).
SECRETS_KEY = "ice_servers"
#: "relay" makes the browser send its video through a TURN server only (never directly): for
#: networks that allow nothing else, and to check a TURN server; "all" (the default) lets it
#: take the best path. Environment variable first, then this st.secrets key.
ENV_ICE_TRANSPORT_POLICY = "MASK_DETECTOR_ICE_TRANSPORT_POLICY"
POLICY_SECRETS_KEY = "ice_transport_policy"
TRANSPORT_POLICIES = ("all", "relay")
#: Public STUN: enough when the browser and the server can reach each other directly.
DEFAULT_ICE_SERVERS: list[dict[str, Any]] = [{"urls": ["stun:stun.l.google.com:19302"]}]
LOOPBACK = "127.0.0.1"


def parse_ice_servers(value: Any) -> list[dict[str, Any]]:
    """A validated list of RTCIceServer dicts from JSON text, a list, or {"iceServers": [...]}."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ICE servers are not valid JSON: {exc}") from None
    if isinstance(value, Mapping) and "iceServers" in value:
        value = value["iceServers"]
    if isinstance(value, Mapping):  # one server
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError("ICE servers must be a list of {'urls': ...} objects")
    servers = []
    for server in value:
        if not isinstance(server, Mapping) or not server.get("urls"):
            raise ValueError(f"ICE server without 'urls': {server!r}")
        servers.append(dict(server))
    return servers


def loopback_ice_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV_TEST_LOOPBACK_ICE, "") not in ("", "0", "false")


def ice_servers(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """ICE servers: the environment variable first, then st.secrets, else public STUN.

    In loopback test mode there are none at all: nothing may leave 127.0.0.1.
    """
    env = os.environ if environ is None else environ
    if loopback_ice_enabled(env):
        return []
    if env.get(ENV_ICE_SERVERS, "").strip():
        return parse_ice_servers(env[ENV_ICE_SERVERS])
    if secrets is not None and secrets.get(SECRETS_KEY) is not None:
        return parse_ice_servers(_plain(secrets[SECRETS_KEY]))
    return [dict(s) for s in DEFAULT_ICE_SERVERS]


def _plain(value: Any) -> Any:
    """st.secrets hands out its own mapping types; json.dumps-able copies validate the same."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def transport_policy(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> str:
    """The browser's ICE transport policy: "all" (default) or "relay" (TURN only)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_ICE_TRANSPORT_POLICY, "").strip()
    if not value and secrets is not None:
        value = str(secrets.get(POLICY_SECRETS_KEY) or "").strip()
    if value and value not in TRANSPORT_POLICIES:
        raise ValueError(
            f"ICE transport policy {value!r} is not one of {', '.join(TRANSPORT_POLICIES)}"
        )
    return value or "all"


def rtc_configuration(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The rtc_configuration for webrtc_streamer: ICE servers for browser and server alike, and
    the transport policy when it is "relay" (only the browser reads it; aiortc has none).

    An explicit list (even empty) matters: without one streamlit-webrtc fetches TURN credentials
    from third-party services on its own.
    """
    if loopback_ice_enabled(environ):
        enable_loopback_ice()
    config: dict[str, Any] = {"iceServers": ice_servers(environ, secrets)}
    if transport_policy(environ, secrets) == "relay":
        config["iceTransportPolicy"] = "relay"
    return config


_loopback_lock = threading.Lock()
_loopback_enabled = False


def enable_loopback_ice() -> None:
    """Test-only: make aioice (aiortc's ICE) offer and accept 127.0.0.1 candidates only.

    aioice leaves loopback out of its host candidates and would offer every other interface;
    here it offers only 127.0.0.1, and remote candidates on other addresses (including mDNS
    names, whose resolution would send multicast) are ignored. Idempotent, process-wide.
    """
    global _loopback_enabled
    with _loopback_lock:
        if _loopback_enabled:
            return
        import aioice.ice

        def loopback_addresses(use_ipv4: bool = True, use_ipv6: bool = False) -> list[str]:
            return [LOOPBACK] if use_ipv4 else []

        original_add = aioice.ice.Connection.add_remote_candidate

        async def add_loopback_candidate(self: Any, remote_candidate: Any) -> None:
            if remote_candidate is not None and remote_candidate.host != LOOPBACK:
                log.debug("loopback ICE: ignoring remote candidate %s", remote_candidate.host)
                return
            await original_add(self, remote_candidate)

        aioice.ice.get_host_addresses = loopback_addresses
        aioice.ice.Connection.add_remote_candidate = add_loopback_candidate  # type: ignore[method-assign]
        _loopback_enabled = True
        log.warning("loopback-only ICE enabled (%s): for tests only", ENV_TEST_LOOPBACK_ICE)
