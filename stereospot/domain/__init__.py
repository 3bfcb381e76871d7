"""The pure core: model, keys, messages, policies, ports and use cases.

Nothing here imports infrastructure or performs I/O; a unit test enforces it.
"""
