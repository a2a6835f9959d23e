"""Media processing: the processor protocol, the built-in image processors and the worker that runs them."""

from mediavault.processing.base import MediaProcessor, MediaSource, ProcessingError, ProcessingResult, Variant

__all__ = ("MediaProcessor", "MediaSource", "ProcessingError", "ProcessingResult", "Variant")
