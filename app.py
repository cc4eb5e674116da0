"""The Streamlit app: `streamlit run app.py`. Only navigation here; each page is in pages/."""

import streamlit as st

st.set_page_config(page_title="Face-mask detector", page_icon=":material/masks:", layout="wide")

#: url_path values are part of the app's public URLs (/upload, /live, /video, /metrics).
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/upload.py", title="Photos", icon=":material/image:", url_path="upload"),
    st.Page("pages/live.py", title="Live camera", icon=":material/videocam:", url_path="live"),
    st.Page("pages/video.py", title="Video file", icon=":material/movie:", url_path="video"),
    st.Page(
        "pages/metrics.py", title="Model metrics", icon=":material/monitoring:", url_path="metrics"
    ),
]

st.navigation(PAGES).run()
