"""The generic image checks, driven only by ``[tool.image-checks]``."""
