"""This repository's image suite: the generic checks of pytest-image-checks, and this service's.

The plugin sets what testcontainers needs (no Ryuk; containers reached through the ports it
publishes on 127.0.0.1) before testcontainers is imported.
"""
