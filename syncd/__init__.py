"""syncd: integration sync service for production teams."""

__version__ = "0.1.0"
