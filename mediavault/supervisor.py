"""Several uvicorn worker processes on one port, each accepting on its own ``SO_REUSEPORT`` socket.

uvicorn's own ``--workers`` supervisor shares one listening socket between its workers. asyncio's accept loop takes
every pending connection in one wake-up, so a burst of new keep-alive connections (a proxy filling its pool, a load
generator) lands on whichever worker woke first and stays there: measured with ``benchmarks/scale.py``, one worker at
100 % of a core and the other at ~6 %. Here every worker gets a socket of its own, bound to the same address with
``SO_REUSEPORT`` (Linux 3.9+, the BSDs), and the kernel spreads new connections over the sockets by hash.

The supervisor restarts a worker that dies (after a pause, so a crash loop cannot spin), and on SIGINT/SIGTERM
forwards SIGTERM to every worker (each finishes its requests, uvicorn's graceful shutdown) and waits for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

__all__ = ("run_workers",)

logger = logging.getLogger("uvicorn.error")

RESTART_PAUSE = 1.0
"""Seconds before a dead worker is started again."""


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` with ``SO_REUSEPORT``, listening.

    Raises:
        OSError: the address is taken by a socket without ``SO_REUSEPORT``, or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve(sock: socket.socket, options: dict[str, Any]) -> None:
    """One worker: uvicorn on its own socket (runs in the child process)."""
    import uvicorn

    uvicorn.Server(uvicorn.Config(**options)).run(sockets=[sock])


def run_workers(options: dict[str, Any], *, host: str, port: int, workers: int) -> None:
    """Serve ``uvicorn.Config(**options)`` from ``workers`` processes on ``host:port`` until SIGINT/SIGTERM.

    Args:
        options: ``uvicorn.Config`` keyword arguments (the app, its factory flag, protocol settings), without
            ``host``/``port``/``workers``.
        host: interface to bind (an IPv6 address when it contains ``:``).
        port: TCP port; every worker binds it with ``SO_REUSEPORT``.
        workers: number of worker processes, ``>= 1``.

    Raises:
        OSError: the address could not be bound (e.g. taken by another program).
    """
    import uvicorn

    uvicorn.Config(**options)  # configures uvicorn's logging in the supervisor too
    sockets = [_listening_socket(host, port) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start(sock: socket.socket) -> BaseProcess:
        process = context.Process(target=_serve, args=(sock, options), name="mediavault-worker")
        process.start()
        logger.info("Started worker process [%s]", process.pid)
        return process

    processes = [start(sock) for sock in sockets]
    previous: dict[signal.Signals, Any] = {}

    def stop(signum: int, _frame: object) -> None:
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, stop)
    scheme = "https" if options.get("ssl_certfile") else "http"
    logger.info(
        "Supervisor [%s] serving %s://%s:%d with %d workers (SO_REUSEPORT)", os.getpid(), scheme, host, port, workers
    )
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping.is_set():
                    logger.warning("Worker process [%s] died (exit code %s): restarting", process.pid, process.exitcode)
                    time.sleep(RESTART_PAUSE)
                    processes[i] = start(sockets[i])
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
        logger.info("Supervisor [%s] stopped", os.getpid())
