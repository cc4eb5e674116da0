"""Many photos or videos in one run, on this machine or on a Ray cluster, with the same results.

`runner.make_engine` picks an engine: `local.LocalEngine` runs one worker in this process,
`ray_engine.RayEngine` a pool of them on Ray Data (a local runtime started on demand, or a
cluster). Both run the same workers (`work.PhotoWorker`, `work.VideoWorker`) and yield each
file's outcome in input order, so their results are identical; `output` writes the results
(text, JSON, JSON lines, Parquet) as they come, never holding them all.
"""

#: The engines `--engine` offers; local is the default.
ENGINES = ("local", "ray")
