"""Dash callbacks: each one reads the user's action and calls plain functions."""


def register(app, atlas) -> None:
    from . import account, content, downloads, map, selection, state

    for module in (state, map, content, selection, downloads, account):
        module.register(app, atlas)
