"""Live camera: the browser streams its webcam over WebRTC, the server labels every face it can.

The heavy lifting is in mask_detector.app (live: the frame processor, stats: the live figures,
ice: the ICE settings); this page wires it to streamlit-webrtc and shows the live figures once a
second from a fragment, never from the video callback (st.* calls do not work on that thread).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from mask_detector.app.ice import POLICY_SECRETS_KEY, SECRETS_KEY, rtc_configuration
from mask_detector.app.live import LiveProcessor
from mask_detector.app.state import pipeline_or_stop, sidebar
from mask_detector.app.stats import LiveStats
from mask_detector.app.views import labels_legend
from mask_detector.caveats import CAVEATS

STATS_KEY = "live_stats"


def _secrets() -> Mapping[str, Any] | None:
    """st.secrets when it holds ICE settings; None when there is no secrets file at all."""
    try:
        held = any(key in st.secrets for key in (SECRETS_KEY, POLICY_SECRETS_KEY))
        return st.secrets if held else None
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no secrets.toml anywhere
        return None


@st.fragment(run_every=1.0)
def live_status(stats: LiveStats) -> None:
    """Re-rendered every second on its own, so the figures move while the video plays."""
    snap = stats.snapshot()
    if snap.active:
        st.text(snap.text())
        # A clear alert while someone without a mask (or with one worn wrong) is in view.
        if snap.alert:
            st.markdown(f":red-background[:material/warning: **{snap.alert_text()}**]")
        else:
            st.markdown(f":green-background[:material/check_circle: {snap.alert_text()}]")
        st.text(snap.people_text())
        st.caption(snap.details())
        for caveat in snap.caveats:
            st.warning(CAVEATS[caveat])
    elif snap.frames:
        st.text(f"Stopped · {snap.frames} frames processed")
        st.text(snap.seen_text())
        st.caption(snap.details())
    else:
        st.text("Not streaming · press START")
    if snap.errors:
        st.warning(f"{snap.errors} frame(s) could not be processed; see the server log.")


settings = sidebar("live")
st.title("Live camera")
st.write(
    f"Press **START** and allow the camera: each face is boxed and labelled {labels_legend()} "
    "on the video coming back from the server, with the number of its person, who keeps it "
    "while in view. Below the video: people in view now and since START, and an alert while "
    "someone without a mask is in view. When the server cannot keep up it skips frames instead "
    "of falling behind. **STOP** ends the stream."
)

pipeline = pipeline_or_stop(settings)
stats: LiveStats = st.session_state.setdefault(STATS_KEY, LiveStats())

try:
    rtc_config = rtc_configuration(secrets=_secrets())
except ValueError as exc:
    st.error(f"The ICE server setting is invalid: {exc}")
    st.stop()


def make_processor() -> LiveProcessor:
    """Called by streamlit-webrtc on START: a fresh processor, and the statistics start over."""
    stats.reset()
    return LiveProcessor(pipeline, stats, blur=settings.blur_faces)


ctx = webrtc_streamer(
    key="live",
    mode=WebRtcMode.SENDRECV,
    rtc_configuration=rtc_config,
    media_stream_constraints={"video": True, "audio": False},
    video_processor_factory=make_processor,
    async_processing=True,  # frames queue on a worker; LiveProcessor keeps only the newest
    sendback_audio=False,
)
if ctx.video_processor is not None:
    # New sidebar settings apply to the running stream from its next frame.
    ctx.video_processor.pipeline = pipeline
    ctx.video_processor.blur = settings.blur_faces

live_status(stats)
