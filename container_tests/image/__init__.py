"""Generic image checks: any service's image, driven only by ``[tool.container-tests]``."""
