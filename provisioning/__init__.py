"""Provisioning bundles: how IT staff set up a PHS box with a USB stick (docs/BUNDLE.md).

``format`` fixes the layout and limits, ``crypto`` the keys, signatures and sealed
secrets, ``roster`` reads participant lists, ``writer`` builds a bundle on the IT
person's laptop, ``reader`` verifies one (the box and ``inspect`` use it), ``box``
applies a verified bundle to a running appliance, ``updates`` installs signed software
updates, and ``cli`` is ``phs provision``.
"""

FORMAT_VERSION = 1
