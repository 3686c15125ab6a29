"""One file per dashboard page; each reads like a description of its screen (``app.py`` routes to them)."""
