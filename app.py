"""The Streamlit app: `streamlit run app.py`. Only navigation here; each page is in app_pages/.

The folder is not called `pages/`: Streamlit takes a `pages/` folder beside the entry script for
its older multipage mode, where a link to a page opened as a server's first request runs that
file alone under a menu of the folder's file names (tests/test_deep_links.py).
"""

import streamlit as st

st.set_page_config(page_title="Face-mask detector", page_icon=":material/masks:", layout="wide")

#: url_path values are part of the app's public URLs (/upload, /live, /video, /metrics).
PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/upload.py", title="Photos", icon=":material/image:", url_path="upload"),
    st.Page("app_pages/live.py", title="Live camera", icon=":material/videocam:", url_path="live"),
    st.Page("app_pages/video.py", title="Video file", icon=":material/movie:", url_path="video"),
    st.Page(
        "app_pages/metrics.py",
        title="Model metrics",
        icon=":material/monitoring:",
        url_path="metrics",
    ),
]

st.navigation(PAGES).run()
