"""The stereo engine: depth estimation, view synthesis and packing (torch + PyAV)."""
