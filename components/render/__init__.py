"""Renderers every target shares: the documents a VM, a CDN or the sandbox runs, from pure functions."""
