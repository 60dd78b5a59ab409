"""Dash callbacks: each one reads the user's action and calls plain functions."""


def register(app, atlas) -> None:
    from . import content, downloads, map, selection, state

    for module in (state, map, content, selection, downloads):
        module.register(app, atlas)
