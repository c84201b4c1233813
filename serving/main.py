"""Entry point for uvicorn: `uvicorn serving.main:create_app --factory`."""

from serving.app import create_app

__all__ = ["create_app"]
