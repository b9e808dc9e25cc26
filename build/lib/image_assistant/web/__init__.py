"""The web gallery: its pages, served by the API process on the same port."""

from image_assistant.web.pages import install

__all__ = ["install"]
