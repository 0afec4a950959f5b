"""Met Museum search microservice."""

__version__ = "0.1.0"
