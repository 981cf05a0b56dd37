"""The Lua scripts of the fenced store, shipped as package data (one ``.lua`` file each).

``prelude.lua`` holds the helpers every script shares and is prepended to each of them by
:mod:`meeting_controller.store.scripting`; nothing here is Python.
"""
