"""Platform containers: one module per place StereoSpot runs (memory, local, aws).

Each defines `PlatformContainer`, a subclass of base.PlatformProviders that provides every
port and every other thing that differs by platform; stereospot.container picks one.
"""
