"""StereoSpot: turn 2D video into stereoscopic 3D."""

__version__ = "0.1.0"
