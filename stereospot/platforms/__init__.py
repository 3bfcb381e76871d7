"""Platform containers: one per place StereoSpot runs (memory, local, aws).

Each module defines `PlatformContainer` (see stereospot.container.build_container).
"""
