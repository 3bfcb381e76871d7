"""The flow of DESIGN.md, one use case per event (implemented in the modules it imports)."""

from __future__ import annotations

from stereospot.domain.services.chunking import chunk_source
from stereospot.domain.services.conversion import handle_output_object, handle_segment_ready
from stereospot.domain.services.ingest import ingest
from stereospot.domain.services.reassembly import reassemble, trigger_if_ready
from stereospot.domain.services.removal import cleanup_job

__all__ = [
    "chunk_source",
    "cleanup_job",
    "handle_output_object",
    "handle_segment_ready",
    "ingest",
    "reassemble",
    "trigger_if_ready",
]
