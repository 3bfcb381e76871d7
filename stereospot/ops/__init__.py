"""Operator commands: provision a stack on an AWS endpoint, smoke-test a deployed one.

They use the adapters and the platform containers; nothing in the product imports them.
"""
