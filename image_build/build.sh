#!/usr/bin/env bash
# Build the PHS appliance OS (Debian bookworm, x86-64) reproducibly with debootstrap.
#
#   image_build/build.sh rootfs DIR       root filesystem in DIR (what the smoke test checks)
#   image_build/build.sh image OUT.img    rootfs + a partitioned disk image (needs loop devices)
#
# Reproducible: SOURCE_DATE_EPOCH comes from the last commit, the Debian mirror can be a
# pinned snapshot (PHS_MIRROR=https://snapshot.debian.org/archive/debian/<stamp>/), the
# package list is fixed below, the wheelhouse is built from this checkout, and files that
# differ per build (machine-id, logs, caches, ssh host keys) are removed. See README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SUITE="${PHS_SUITE:-bookworm}"
MIRROR="${PHS_MIRROR:-http://deb.debian.org/debian}"
PYTHON="${PHS_BUILD_PYTHON:-$REPO/.venv/bin/python}"
# PHS_IMAGE_MINIMAL=1 leaves out the kiosk (X, Chromium) and network daemons: the smoke
# test only needs to prove that the package runs inside the root filesystem.
MINIMAL="${PHS_IMAGE_MINIMAL:-0}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}"
export LC_ALL=C.UTF-8 TZ=UTC DEBIAN_FRONTEND=noninteractive

BASE_PACKAGES=python3,python3-venv,systemd,systemd-sysv,udev,dbus,ca-certificates,util-linux,mount,e2fsprogs,cryptsetup-bin,watchdog,supervisor,poppler-utils
FULL_PACKAGES=hostapd,dnsmasq,avahi-daemon,iproute2,iw,wireless-regdb,linux-image-amd64,systemd-boot,xserver-xorg-core,xserver-xorg-video-all,xinit,x11-xserver-utils,chromium,fonts-noto-core,unclutter

log() { printf '[build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

need_root() {
  [ "$(id -u)" = 0 ] || { log "run as root (debootstrap and chroot need it)"; exit 2; }
  command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y debootstrap >/dev/null; }
}

version() { "$PYTHON" -c 'import appliance; print(appliance.__version__)'; }

wheelhouse() {
  # Wheels for the package and every dependency, built on this machine (same Python
  # minor version and architecture as the image: cp311, x86-64) so the chroot installs
  # offline and exactly what was tested.
  local out="$1"
  mkdir -p "$out"
  log "building the wheelhouse"
  "$PYTHON" -m pip wheel --quiet --wheel-dir "$out" "$REPO"
}

rootfs() {
  local root="$1" include="$BASE_PACKAGES"
  [ "$MINIMAL" = 1 ] || include="$include,$FULL_PACKAGES"
  need_root
  mkdir -p "$root"
  if [ ! -x "$root/usr/bin/python3" ]; then
    log "debootstrap $SUITE from $MIRROR"
    debootstrap --variant=minbase --components=main --include="$include" "$SUITE" "$root" "$MIRROR" >&2
  else
    log "reusing the debootstrapped tree in $root"
  fi
  install_phs "$root"
  configure "$root"
  scrub "$root"
  log "root filesystem ready in $root"
}

install_phs() {
  local root="$1" v
  v="$(version)"
  wheelhouse "$root/tmp/phs-wheels"
  log "installing phs $v into /opt/phs/releases/$v"
  chroot "$root" /usr/bin/python3 -m venv "/opt/phs/releases/$v/venv"
  chroot "$root" "/opt/phs/releases/$v/venv/bin/pip" install --quiet --no-index \
    --find-links /tmp/phs-wheels phs >&2
  mkdir -p "$root/opt/phs/releases/$v"
  cp -r "$REPO/web_ui" "$root/opt/phs/releases/$v/web_ui"
  ln -sfn "releases/$v" "$root/opt/phs/current.new"
  mv -T "$root/opt/phs/current.new" "$root/opt/phs/current"
  install -m 0755 "$HERE/files/phs-cli" "$root/usr/local/bin/phs"
  rm -rf "$root/tmp/phs-wheels"
}

configure() {
  local root="$1"
  log "system user, units, udev rules, watchdog"
  chroot "$root" /bin/sh -c 'id phs >/dev/null 2>&1 || useradd --system --home-dir /var/lib/phs --shell /usr/sbin/nologin --groups plugdev phs 2>/dev/null || useradd --system --home-dir /var/lib/phs --shell /usr/sbin/nologin phs'
  install -d -m 0755 "$root/etc/phs" "$root/etc/supervisor/conf.d" "$root/var/lib/phs"
  install -m 0644 "$HERE/files/phs.env" "$root/etc/phs/phs.env"
  install -m 0644 "$HERE/files/supervisord-phs.conf" "$root/etc/supervisor/conf.d/phs.conf"
  install -m 0644 "$HERE/files/phs.service" "$root/etc/systemd/system/phs.service"
  install -m 0644 "$HERE/files/phs-firstboot.service" "$root/etc/systemd/system/phs-firstboot.service"
  install -m 0755 "$HERE/files/phs-firstboot" "$root/usr/local/sbin/phs-firstboot"
  install -m 0755 "$HERE/files/phs-kiosk" "$root/usr/local/bin/phs-kiosk"
  for unit in phs-network.path phs-network.service phs-update.path phs-update.service; do
    install -m 0644 "$HERE/files/$unit" "$root/etc/systemd/system/$unit"
  done
  install -m 0644 "$HERE/files/90-phs-usb.rules" "$root/etc/udev/rules.d/90-phs-usb.rules"
  for rules in "$REPO"/firmware_scripts/*.rules; do
    [ -e "$rules" ] && install -m 0644 "$rules" "$root/etc/udev/rules.d/"
  done
  install -d "$root/etc/systemd/system.conf.d"
  install -m 0644 "$HERE/files/watchdog.conf" "$root/etc/systemd/system.conf.d/phs-watchdog.conf"
  install -m 0644 "$HERE/files/fstab" "$root/etc/fstab"
  echo phs > "$root/etc/hostname"
  # The mDNS name phs.local and the generated hostapd/dnsmasq files come from the same
  # code that applies a bundle on the box (appliance.network.config).
  chroot "$root" /opt/phs/current/venv/bin/python -m appliance.network.config --root / --defaults >&2
  chroot "$root" systemctl enable phs.service phs-firstboot.service phs-update.path >/dev/null 2>&1 || true
  chroot "$root" systemctl disable supervisor.service >/dev/null 2>&1 || true
  if [ "$MINIMAL" != 1 ]; then
    # Debian masks hostapd until it is configured; ours is (from /var/lib/phs/network).
    chroot "$root" systemctl unmask hostapd.service >/dev/null 2>&1 || true
    chroot "$root" systemctl enable systemd-networkd.service hostapd.service dnsmasq.service avahi-daemon.service phs-network.path >/dev/null 2>&1 || true
  fi
}

scrub() {
  local root="$1"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
    "$root"/tmp/* "$root"/etc/ssh/ssh_host_*
  : > "$root/etc/machine-id"
  find "$root" -xdev -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
  find "$root" -xdev -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + 2>/dev/null || true
}

image() {
  # Disk layout: ESP (systemd-boot) | root (ext4, mounted read-only) | data (LUKS2,
  # formatted on first boot with a key from the key stick: see phs-firstboot).
  local out="$1" root
  root="$(mktemp -d)"
  rootfs "$root"
  log "assembling $out"
  truncate -s "${PHS_IMAGE_SIZE:-8G}" "$out"
  sfdisk --quiet "$out" <<PARTS
label: gpt
size=512MiB, type=uefi, name=esp
size=4GiB, type=linux, name=phs-root
type=linux, name=phs-data
PARTS
  local loop
  loop="$(losetup --find --show --partscan "$out")"
  trap 'losetup -d "$loop"' EXIT
  mkfs.vfat -n ESP "${loop}p1" >/dev/null
  mkfs.ext4 -q -L phs-root -E root_owner=0:0 -d "$root" "${loop}p2"
  log "image ready: $out (data partition is encrypted at first boot)"
}

case "${1:-}" in
  rootfs) rootfs "${2:?target directory}" ;;
  image) image "${2:?output file}" ;;
  *) echo "usage: $0 rootfs DIR | image OUT.img" >&2; exit 2 ;;
esac
