"""Use cases: plain functions over the ports, each typed with the role it plays
(roles.py); the composition root's Deps plays every role."""
