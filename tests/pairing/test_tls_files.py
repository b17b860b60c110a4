"""The box CA and server certificate on disk, and the mDNS advertisement, without a server."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509
from zeroconf import IPVersion

from appliance.core.settings import Settings
from appliance.network.mdns import Advertiser, mdns_wanted, service_info
from appliance.web.tls import BOX_NAME, ensure, fingerprint, load_ca, tls_files, tls_wanted


def _server_cert(data: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(tls_files(data).server_cert.read_bytes())


def _ips(cert: x509.Certificate) -> list[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress))


def test_first_start_makes_a_ca_and_a_certificate_reissued_when_addresses_change(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    assert ensure(data, ["127.0.0.1", "10.42.0.1"]) is True
    files = tls_files(data)
    assert oct(files.folder.stat().st_mode & 0o777) == "0o700"
    assert (
        oct(files.ca_key.stat().st_mode & 0o777)
        == oct(files.server_key.stat().st_mode & 0o777)
        == "0o600"
    )
    ca_before = fingerprint(load_ca(files))
    first = _server_cert(data)
    assert _ips(first) == ["10.42.0.1", "127.0.0.1"]
    assert ensure(data, ["10.42.0.1", "127.0.0.1"]) is False  # same names: nothing rewritten
    assert ensure(data, ["127.0.0.1", "192.168.10.5", "fd00::5"]) is True  # a new DHCP lease
    second = _server_cert(data)
    assert _ips(second) == ["127.0.0.1", "192.168.10.5", "fd00::5"]
    assert second.serial_number != first.serial_number
    assert fingerprint(load_ca(files)) == ca_before  # tablets keep trusting the same CA
    second.verify_directly_issued_by(load_ca(files))


def test_ca_may_vouch_only_for_the_box_names(tmp_path: Path) -> None:
    ensure(tmp_path, ["127.0.0.1"])
    ca = load_ca(tls_files(tmp_path))
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical is True
    assert [n.value for n in constraints.value.permitted_subtrees or []] == [BOX_NAME, "localhost"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0


def test_tls_and_mdns_follow_the_bound_address() -> None:
    assert tls_wanted(Settings(host="127.0.0.1")) is False
    assert tls_wanted(Settings(host="0.0.0.0")) is True
    assert tls_wanted(Settings(host="0.0.0.0", tls="off")) is False
    assert tls_wanted(Settings(host="127.0.0.1", tls="on")) is True
    assert (
        mdns_wanted("auto", "127.0.0.1"),
        mdns_wanted("auto", "0.0.0.0"),
        mdns_wanted("off", "0.0.0.0"),
    ) == (False, True, False)


def test_mdns_advertises_the_https_service_for_phs_local() -> None:
    info = service_info(["127.0.0.1", "10.42.0.1", "fd00::1"], 8443, https=True)
    assert info.type == "_https._tcp.local."
    assert info.server == "phs.local."
    assert info.port == 8443
    assert sorted(
        str(ipaddress.ip_address(a)) for a in info.addresses_by_version(IPVersion.All)
    ) == ["10.42.0.1", "fd00::1"]
    assert info.properties[b"ca"] == b"/api/tls/ca.pem"


def test_mdns_without_an_address_degrades_to_a_log_line() -> None:
    assert (
        Advertiser().start(["127.0.0.1"], 8443, https=True) is False
    )  # loopback only: nothing to say


def test_a_reissued_certificate_is_served_without_a_restart(tmp_path: Path) -> None:
    import socket
    import ssl
    import threading

    from appliance.web.tls import reload, server_context

    ensure(tmp_path, ["127.0.0.1"])
    files = tls_files(tmp_path)
    ctx = server_context(files)  # the one context the HTTPS listener keeps
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(n: int) -> None:
        for _ in range(n):
            conn, _ = listener.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    client = ssl.create_default_context(cafile=str(files.ca_cert))

    def served_ips() -> list[str]:
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            client.wrap_socket(raw, server_hostname=BOX_NAME) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            return _ips(x509.load_der_x509_certificate(der))

    assert served_ips() == ["127.0.0.1"]
    assert ensure(tmp_path, ["127.0.0.1", "10.0.5.9"]) is True  # a cable plugged: a new address
    reload(ctx, files)
    assert served_ips() == ["10.0.5.9", "127.0.0.1"]
    thread.join(5)
    listener.close()


def test_demo_urls_use_https_on_the_network_and_name_the_start_page(
    tmp_path: Path, capsys: object
) -> None:
    from appliance.web.demo import announce
    from appliance.web.service import Appliance

    app = Appliance(Settings(data_dir=tmp_path, host="0.0.0.0", port=8080, tls_port=8443))
    app.demo_codes = {"delegate": "234567"}
    announce(app, ["http://10.42.0.1:8080", "http://127.0.0.1:8080"])
    out = capsys.readouterr().out
    assert "https://10.42.0.1:8443/ui/?code=234567" in out
    assert "http://127.0.0.1:8080/ui/?code=234567" in out  # loopback stays plain
    assert "http://10.42.0.1:8080/ui/?code" not in out
    assert out.rstrip().endswith("install the box's certificate first: http://10.42.0.1:8080/")
