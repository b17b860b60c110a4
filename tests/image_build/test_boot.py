"""The disk image boots: UEFI firmware, systemd-boot, the kernel on a read-only root, supervisord.

`build.sh image` makes the image (minimal: no X, no browser, no network daemons; set
PHS_BOOT_FULL=1 for the full one) and QEMU boots it with OVMF three times, reading the
serial console, where the kernel, systemd and phs-boot-report write:

1. with a blank USB stick labelled PHSKEY, as IT staff hand a fresh box over: the stick
   gets its keys, the data partition is formatted and opened, the web server is open;
2. without the stick: the data stays closed and the web server answers ``locked``;
3. with the stick again: the same data opens (the keys on the stick sealed it).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from appliance import __version__

REPO = Path(__file__).resolve().parents[2]
BUILD = (REPO / "image_build" / "build.sh").read_text()
ROOT_PARTUUID = re.search(r"^ROOT_PARTUUID=(\S+)$", BUILD, flags=re.M).group(1)  # type: ignore[union-attr]
FIRMWARE = [  # (code, variables) as Debian's ovmf package installs them
    (Path("/usr/share/OVMF/OVMF_CODE_4M.fd"), Path("/usr/share/OVMF/OVMF_VARS_4M.fd")),
    (Path("/usr/share/OVMF/OVMF_CODE.fd"), Path("/usr/share/OVMF/OVMF_VARS.fd")),
]
END = "PHS: end of boot report"


@functools.cache
def kvm_works(code: Path) -> bool:
    """Whether QEMU runs a guest under KVM here; else it emulates (TCG), several times slower.

    /dev/kvm can be there on a host whose nested virtualisation fails at the guest's first
    instruction ("KVM internal error", or an abort on a model-specific register), so a
    short run of the firmware decides, not the device node.
    """
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    probe = subprocess.Popen(
        ["qemu-system-x86_64", "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "256", "-display", "none",
         "-serial", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
         "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        probe.wait(timeout=5)
        return False  # it stopped: KVM refused the guest
    except subprocess.TimeoutExpired:
        probe.kill()
        return "KVM internal error" not in probe.communicate()[1]


def boot(image: Path, variables: Path, code: Path, log: Path, stick: Path | None, timeout: float) -> str:
    """Boot the image until its boot report ends, power it off through ACPI, return the serial log."""
    kvm = kvm_works(code)
    command = [
        "qemu-system-x86_64", "-machine", f"q35,accel={'kvm' if kvm else 'tcg'}",
        "-cpu", "host" if kvm else "max", "-m", "2048", "-smp", "2",
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
        "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
        # The disk at a fixed PCI address and first in the boot order: the firmware keeps its
        # boot entries in the variables file across boots, and with the USB controller in or
        # out the disk would move and its entry would fall behind the UEFI shell's.
        "-drive", f"if=none,id=disk,format=raw,file={image}", "-device", "virtio-blk-pci,drive=disk,addr=0x5,bootindex=0",
        "-display", "none", "-serial", f"file:{log}", "-monitor", "stdio", "-nic", "none", "-no-reboot",
    ]
    if stick is not None:  # a real USB mass-storage device, so udev sees ID_BUS=usb as on the box
        command += ["-device", "qemu-xhci,addr=0x6", "-drive", f"if=none,id=stick,format=raw,file={stick}",
                    "-device", "usb-storage,drive=stick"]
    log.write_text("")
    qemu = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert qemu.stdin is not None
    deadline = time.monotonic() + timeout
    try:
        while END not in log.read_text(errors="replace"):
            if qemu.poll() is not None:
                pytest.fail(f"qemu exited ({qemu.returncode}): {qemu.stderr.read() if qemu.stderr else ''}\n"
                            f"{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no boot report within {timeout:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(1)
        qemu.stdin.write("system_powerdown\n")  # a clean shutdown: the data partition is closed
        qemu.stdin.flush()
        qemu.wait(timeout=120)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
    return log.read_text(errors="replace")


def report(serial: str) -> dict[str, str]:
    """phs-boot-report's lines of the last boot in ``serial``, by their label."""
    lines = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line).strip() for line in serial.splitlines()]
    found: dict[str, str] = {}
    for line in lines:
        match = re.search(r"PHS: ([^:]+): (.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def programs(line: str) -> dict[str, str]:
    """``web RUNNING, devices RUNNING`` as {name: state}."""
    return dict(item.split(" ", 1) for item in line.split(", "))


def stick_file(stick: Path, name: str) -> bytes:
    """A file on the FAT key stick, read with mtools (no mount needed)."""
    return subprocess.run(["mtype", "-i", str(stick), f"::/{name}"], capture_output=True, check=True).stdout


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_image_boots_read_only_to_supervisord_and_opens_its_data_with_the_key_stick(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root")
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    firmware = next(((c, v) for c, v in FIRMWARE if c.exists() and v.exists()), None)
    if firmware is None:
        pytest.skip("no OVMF UEFI firmware in /usr/share/OVMF (apt-get install ovmf)")
    for tool in ("mkfs.fat", "mtype"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install dosfstools mtools)")
    code, variables_template = firmware
    full = os.environ.get("PHS_BOOT_FULL") == "1"
    image = tmp_path / "phs.img"
    started = time.monotonic()
    env = dict(os.environ, PHS_IMAGE_MINIMAL="0" if full else "1", TMPDIR=str(tmp_path))
    subprocess.run(["bash", str(REPO / "image_build" / "build.sh"), "image", str(image)], check=True, env=env)
    built = time.monotonic() - started
    variables = tmp_path / "OVMF_VARS.fd"
    shutil.copyfile(variables_template, variables)
    stick = tmp_path / "keystick.img"
    subprocess.run(["mkfs.fat", "-C", "-n", "PHSKEY", str(stick), str(64 * 1024)], check=True, capture_output=True)
    timeout = 300 if kvm_works(code) else 1500
    expected = {"web": "RUNNING", "devices": "RUNNING", "sync": "RUNNING"} | ({"display": "RUNNING"} if full else {})

    # 1. A fresh box with a blank key stick.
    first = boot(image, variables, code, tmp_path / "serial-1.log", stick, timeout)
    command_line = next(line for line in first.splitlines() if "Command line:" in line)
    assert f"root=PARTUUID={ROOT_PARTUUID} ro " in command_line and "console=ttyS0,115200n8" in command_line
    assert "phs-firstboot: made phs-luks.key on the key stick" in first
    assert "phs-firstboot: data partition formatted (LUKS2)" in first
    seen = report(first)
    assert seen["root filesystem"].split(",")[0] == "ro"
    assert seen["data"] == "/dev/mapper/phsdata ext4"
    running = programs(seen["supervisord"])
    assert {k: v for k, v in running.items() if not k.startswith("kiosk-")} == expected
    assert json.loads(seen["web /api/health"]) == {"ok": True, "version": __version__}
    if full:
        # One browser per connected output (QEMU's VGA is one, "Virtual-1"), added by phs devices.
        connected = [o.split()[0] for o in seen["display outputs"].split(", ") if o.endswith(" connected")]
        assert connected and {k: v for k, v in running.items() if k.startswith("kiosk-")} == {
            f"kiosk-{c}": "RUNNING" for c in connected}
        # QEMU has no Wi-Fi card: the access point and its DHCP server have no wlan0 to serve.
        assert set(seen["failed units"].split()) <= {"hostapd.service", "dnsmasq.service"}
    else:
        assert seen["failed units"] == "none"
    assert len(stick_file(stick, "phs-luks.key")) == 32 and len(stick_file(stick, "kek.key")) == 32
    kek = stick_file(stick, "kek.key")

    # 2. The stick is out: the box comes up locked and writes nothing on its root.
    second = report(boot(image, variables, code, tmp_path / "serial-2.log", None, timeout))
    assert second["root filesystem"].split(",")[0] == "ro"
    assert second["data"] == "phs-locked tmpfs, locked"
    assert {k: v for k, v in programs(second["supervisord"]).items() if not k.startswith("kiosk-")} == expected
    assert json.loads(second["web /api/health"]) == {"ok": True, "version": __version__, "locked": True}

    # 3. The stick is back: the same keys open the data the first boot sealed.
    third_log = boot(image, variables, code, tmp_path / "serial-3.log", stick, timeout)
    third = report(third_log)
    assert "phs-firstboot: data partition formatted" not in third_log
    assert third["data"] == "/dev/mapper/phsdata ext4"
    assert json.loads(third["web /api/health"]) == {"ok": True, "version": __version__}
    assert stick_file(stick, "kek.key") == kek
    size = image.stat().st_size
    written = image.stat().st_blocks * 512
    print(f"image built in {built:.0f} s ({'full' if full else 'minimal'}; {size / 2**30:.1f} GiB disk, "
          f"{written / 2**20:.0f} MiB written), three boots in {time.monotonic() - started - built:.0f} s "
          f"({'KVM' if kvm_works(code) else 'TCG'})")
