"""Personal data: export and erasure requests."""

from .erasure import erasure_approve, erasure_decline, erasure_request
from .export import data_export_for_link, data_export_request

__all__ = [
    "data_export_for_link",
    "data_export_request",
    "erasure_approve",
    "erasure_decline",
    "erasure_request",
]
