"""The ground floor: errors, settings, money, the live config and the agents.yaml schema.

Imports nothing of the project; every other layer builds on it.
"""
