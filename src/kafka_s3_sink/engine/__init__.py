"""The data plane at run time: one task consumes, uploads and commits (see sink_task.py)."""
