"""digest: daily trending-papers newsletter."""

__version__ = "0.1.0"
