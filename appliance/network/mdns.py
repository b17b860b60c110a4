"""mDNS: the box answers for ``phs.local`` and advertises its web service on the room network.

Tablets find the box by name (iPads resolve ``.local`` natively, recent Android too), so
a seat card or the start page can say ``phs.local`` even when the DHCP address changes.
Optional: without the ``zeroconf`` package or a multicast-capable interface (a
container, CI) the box logs it and carries on; people then use the address shown on
the hall display.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

log = logging.getLogger("phs.mdns")

HOSTNAME = "phs.local."
SERVICE_NAME = "PHS Phòng họp số"


def service_info(addresses: list[str], port: int, https: bool) -> Any:
    """The zeroconf ServiceInfo for the web UI (``_https._tcp`` or ``_http._tcp``), or None."""
    try:
        from zeroconf import ServiceInfo
    except ImportError:
        return None
    kind = "_https._tcp.local." if https else "_http._tcp.local."
    packed = []
    for addr in addresses:
        ip = ipaddress.ip_address(addr)
        if ip.is_loopback:
            continue
        packed.append(
            socket.inet_pton(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, addr)
        )
    return ServiceInfo(
        kind,
        f"{SERVICE_NAME}.{kind}",
        addresses=packed,
        port=port,
        properties={"path": "/ui/", "ca": "/api/tls/ca.pem"},
        server=HOSTNAME,
    )


class Advertiser:
    """Registers the service on start, unregisters on stop; every failure degrades to a log line."""

    def __init__(self) -> None:
        self._zc: Any = None
        self._info: Any = None

    def start(self, addresses: list[str], port: int, https: bool) -> bool:
        """Advertise; False (logged) when mDNS is unavailable here."""
        info = service_info(addresses, port, https)
        if info is None:
            log.info("mDNS off: the zeroconf package is not installed")
            return False
        if not info.addresses:
            log.info("mDNS off: no network address to advertise")
            return False
        try:
            from zeroconf import IPVersion, Zeroconf

            self._zc = Zeroconf(ip_version=IPVersion.All)
            self._zc.register_service(info, allow_name_change=True)
        except (OSError, RuntimeError, ValueError) as err:
            log.info("mDNS off: cannot advertise here", extra={"error": type(err).__name__})
            self.stop()
            return False
        self._info = info
        log.info("mDNS advertising", extra={"name": HOSTNAME, "port": port})
        return True

    def stop(self) -> None:
        """Withdraw the advertisement and close the sockets."""
        zc, self._zc = self._zc, None
        if zc is None:
            return
        try:
            if self._info is not None:
                zc.unregister_service(self._info)
        except (OSError, RuntimeError, ValueError):
            pass
        finally:
            zc.close()
            self._info = None


def mdns_wanted(mode: str, host: str) -> bool:
    """``on``, or ``auto`` while the server binds a non-loopback address."""
    mode = mode.strip().lower()
    if mode == "auto":
        try:
            return not (host == "localhost" or ipaddress.ip_address(host).is_loopback)
        except ValueError:
            return True
    return mode in ("on", "1", "true", "yes")


def advertise_in_background(addresses: list[str], port: int, https: bool) -> Advertiser:
    """Start advertising without holding up the server (probing takes a second or two)."""
    import threading

    advertiser = Advertiser()
    threading.Thread(
        target=advertiser.start, args=(addresses, port, https), name="phs-mdns", daemon=True
    ).start()
    return advertiser
