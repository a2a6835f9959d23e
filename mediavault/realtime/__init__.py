"""Realtime: committed events pushed to WebSocket clients (``/realtime``), through Litestar's channels."""

from mediavault.realtime.hub import RealtimeHub, event_targets
from mediavault.realtime.socket import realtime_handler

__all__ = ("RealtimeHub", "event_targets", "realtime_handler")
