"""What the Streamlit pages in app_pages/ share, one job a module; the pages themselves stay thin.

Only `state`, `upload` and `views` import streamlit; `live`, `stats`, `ice`, `reports`,
`results` and `people` (and the rest of the package) never do, so they are testable without a
script run.

* state: settings sidebar, the shared pipeline, per-session memo  (streamlit)
* upload: the upload page's per-session results                    (streamlit)
* views: widgets more than one page draws                          (streamlit)
* live: the /live page's frame processor (streamlit-webrtc calls it, duck-typed)
* stats: live statistics, from the video thread to the page
* ice: ICE (STUN / TURN) settings, and the tests' loopback-only mode
* reports: training and evaluation files under models/, as table rows and figures
* results: per-file results of the upload page, CSV and JSON downloads
* people: the video page's table of people, CSV and JSON downloads
"""
