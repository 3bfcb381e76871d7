"""The media-worker: chunking, reassembly, deletion and URL ingest.

Run with `stereospot worker media` or `python -m stereospot.entrypoints.workers.media_worker`.
"""

from __future__ import annotations

import sys

from stereospot.entrypoints.workers.runner import Role, run_worker


def main() -> int:
    return run_worker(Role.MEDIA)


if __name__ == "__main__":
    sys.exit(main())
