"""The video-worker: converts segments (video-worker queue) and records outputs
(output-events queue).

Run with `stereospot worker video` or `python -m stereospot.entrypoints.workers.video_worker`.
"""

from __future__ import annotations

import sys

from stereospot.entrypoints.workers.runner import Role, run_worker


def main() -> int:
    return run_worker(Role.VIDEO)


if __name__ == "__main__":
    sys.exit(main())
