"""The rehearsal runner (SCENARIO.md): plays a sitting through the public API.

It is a client of the appliance like any tablet, so a scenario rehearses exactly what
the room will run; ``cli.main`` is what ``phs scenario`` dispatches to.
"""
