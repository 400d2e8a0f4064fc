"""Loaded by every Python process started with this folder on PYTHONPATH (reliability tests):
any attempt to resolve a host name or open a socket connection is recorded and refused."""

import os
import socket

_LOG = os.environ.get("PIPELINE_TUI_TEST_NETLOG")


def _refuse(*args, **kwargs):
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{os.getpid()} {args[1:2]!r}\n")
    raise OSError("network blocked by the pipeline-tui reliability tests")


if _LOG:
    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
