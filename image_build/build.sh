#!/usr/bin/env bash
# Build the PHS appliance OS (Debian bookworm, x86-64) reproducibly with debootstrap.
#
#   image_build/build.sh rootfs DIR              root filesystem in DIR (what the smoke test checks)
#   image_build/build.sh image OUT.img [DIR]     a bootable UEFI disk image (ESP with systemd-boot,
#                                                read-only root, data partition); DIR keeps the tree
#
# Reproducible: SOURCE_DATE_EPOCH comes from the last commit, the Debian mirror can be a
# pinned snapshot (PHS_MIRROR=https://snapshot.debian.org/archive/debian/<stamp>/), the
# package list is fixed below, the wheelhouse is built from this checkout, files that
# differ per build (machine-id, logs, caches, ssh host keys) are removed, and the disk's
# GUIDs, filesystem UUIDs and FAT volume id are constants. See README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SUITE="${PHS_SUITE:-bookworm}"
MIRROR="${PHS_MIRROR:-http://deb.debian.org/debian}"
PYTHON="${PHS_BUILD_PYTHON:-$REPO/.venv/bin/python}"
# PHS_IMAGE_MINIMAL=1 leaves out the hall displays (X, Chromium), the network daemons and
# the firmware: the smoke test only needs to prove that the package runs inside the root
# filesystem, and the boot test that the box boots to supervisord.
MINIMAL="${PHS_IMAGE_MINIMAL:-0}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}"
export LC_ALL=C.UTF-8 TZ=UTC DEBIAN_FRONTEND=noninteractive

BASE_PACKAGES=python3,python3-venv,systemd,systemd-sysv,udev,dbus,ca-certificates,util-linux,mount,e2fsprogs,cryptsetup-bin,watchdog,supervisor,poppler-utils
# In every disk image, minimal or not: the kernel, its initramfs and the UEFI boot loader.
BOOT_PACKAGES=linux-image-amd64,initramfs-tools,zstd,systemd-boot
# Hall displays: one X server (modesetting driver) and one Chromium per output. The
# firmware (non-free-firmware) is what the usual mini PC's Wi-Fi, Ethernet and GPU need.
FULL_PACKAGES=hostapd,dnsmasq,avahi-daemon,iproute2,iw,wireless-regdb,xserver-xorg-core,x11-xserver-utils,chromium,fonts-noto-core,firmware-iwlwifi,firmware-realtek,firmware-misc-nonfree
WITH_BOOT=0  # set by `image`

# The disk: fixed GUIDs, so the same inputs give the same partition table and the loader
# entry can name the root by PARTUUID (the kernel resolves it itself, and a USB stick
# cannot take its place by carrying a partition that is also named phs-root).
DISK_GUID=50485300-d15c-4000-8000-000000000000
ESP_PARTUUID=50485300-0e5b-4000-8000-000000000001
ROOT_PARTUUID=50485300-2007-4000-8000-000000000002
DATA_PARTUUID=50485300-da7a-4000-8000-000000000003
ROOT_FS_UUID=50485300-2007-4000-8000-0000000000f5
ESP_VOLUME_ID=50485345
ROOT_TYPE=4f68bce3-e8cd-4db1-96e7-fbcaf984b709  # "Linux root (x86-64)", Discoverable Partitions
ESP_MIB=512
ROOT_MIB=4096
# Serial console last: it becomes /dev/console, so systemd's status lines and the boot
# report (phs-boot-report) reach a technician's serial cable and the boot test; the
# screen (tty0) still shows the kernel's messages until the hall display starts.
KERNEL_OPTIONS="root=PARTUUID=$ROOT_PARTUUID ro rootfstype=ext4 console=tty0 console=ttyS0,115200n8 panic=10"

log() { printf '[build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || { log "run as root (debootstrap and chroot need it)"; exit 2; }
  command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y debootstrap >/dev/null; }
}

# Commands inside the image run with an environment of their own, not the build host's
# (a host's PIP_* or PYTHON* variables would change what gets installed).
in_root() {
  local root="$1"; shift
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LC_ALL=C.UTF-8 TZ=UTC DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$@"
}

version() { "$PYTHON" -c 'import appliance; print(appliance.__version__)'; }

wheelhouse() {
  # Wheels for the package and every dependency, built on this machine (same Python
  # minor version and architecture as the image: cp311, x86-64) so the chroot installs
  # offline and exactly what was tested. The package is built from a copy of the tracked
  # and new files, so the checkout gets no build/ or .egg-info and ignored files stay out.
  local out="$1" src
  src="$(mktemp -d "${TMPDIR:-/tmp}/phs-src.XXXXXX")"
  git -C "$REPO" ls-files -z --cached --others --exclude-standard \
    | (cd "$REPO" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) \
    | tar -C "$REPO" --null -T - -cf - | tar -C "$src" -xf -
  mkdir -p "$out"
  log "building the wheelhouse"
  "$PYTHON" -m pip wheel --quiet --wheel-dir "$out" "$src"
  rm -rf "$src"
}

rootfs() {
  local root="$1" include="$BASE_PACKAGES"
  [ "$WITH_BOOT" = 1 ] && include="$include,$BOOT_PACKAGES"
  need_root
  mkdir -p "$root"
  if [ ! -x "$root/usr/bin/python3" ]; then
    log "debootstrap $SUITE from $MIRROR"
    debootstrap --variant=minbase --components=main --include="$include" "$SUITE" "$root" "$MIRROR" >&2
    [ "$MINIMAL" = 1 ] || full_packages "$root"
  else
    log "reusing the debootstrapped tree in $root"
  fi
  install_phs "$root"
  configure "$root"
  scrub "$root"
  log "root filesystem ready in $root"
}

full_packages() {
  # The hall displays, network daemons and firmware come from apt inside the tree, not from
  # debootstrap: debootstrap resolves no virtual package, and Chromium pulls in one
  # (dconf-service needs "default-dbus-session-bus | dbus-session-bus"), which leaves the
  # tree unconfigured. No Recommends, as debootstrap.
  local root="$1"
  log "installing the hall display, network and firmware packages"
  printf 'deb %s %s main non-free-firmware\n' "$MIRROR" "$SUITE" > "$root/etc/apt/sources.list"
  mount -t proc proc "$root/proc"
  MOUNTED="$root/proc"
  in_root "$root" apt-get update -q >&2
  # shellcheck disable=SC2046 # one word per package
  in_root "$root" apt-get install -y -q --no-install-recommends $(printf '%s' "$FULL_PACKAGES" | tr ',' ' ') >&2
  in_root "$root" apt-get clean
  umount "$root/proc"
  MOUNTED=""
}

install_phs() {
  local root="$1" v
  v="$(version)"
  wheelhouse "$root/tmp/phs-wheels"
  log "installing phs $v into /opt/phs/releases/$v"
  rm -rf "$root/opt/phs/releases/$v"
  in_root "$root" /usr/bin/python3 -m venv "/opt/phs/releases/$v/venv"
  in_root "$root" "/opt/phs/releases/$v/venv/bin/pip" install --quiet --no-index --no-cache-dir \
    --disable-pip-version-check --find-links /tmp/phs-wheels phs >&2
  cp -r "$REPO/web_ui" "$root/opt/phs/releases/$v/web_ui"
  ln -sfn "releases/$v" "$root/opt/phs/current.new"
  mv -T "$root/opt/phs/current.new" "$root/opt/phs/current"
  install -m 0755 "$HERE/files/phs-cli" "$root/usr/local/bin/phs"
  rm -rf "$root/tmp/phs-wheels"
}

configure() {
  local root="$1"
  log "system user, units, udev rules, watchdog"
  in_root "$root" /bin/sh -c 'id phs >/dev/null 2>&1 || useradd --system --home-dir /var/lib/phs --shell /usr/sbin/nologin --groups plugdev phs 2>/dev/null || useradd --system --home-dir /var/lib/phs --shell /usr/sbin/nologin phs'
  # Mount points and state directories must exist in the image: the root is read-only.
  install -d -m 0755 "$root/etc/phs" "$root/etc/supervisor/conf.d" "$root/etc/supervisor/phs.d" "$root/var/lib/phs" "$root/boot/efi"
  install -m 0644 "$HERE/files/phs.env" "$root/etc/phs/phs.env"
  install -m 0644 "$HERE/files/supervisord-phs.conf" "$root/etc/supervisor/conf.d/phs.conf"
  install -m 0644 "$HERE/files/phs.service" "$root/etc/systemd/system/phs.service"
  install -m 0644 "$HERE/files/phs-firstboot.service" "$root/etc/systemd/system/phs-firstboot.service"
  install -m 0755 "$HERE/files/phs-firstboot" "$root/usr/local/sbin/phs-firstboot"
  install -m 0644 "$HERE/files/phs-boot-report.service" "$root/etc/systemd/system/phs-boot-report.service"
  install -m 0755 "$HERE/files/phs-boot-report" "$root/usr/local/sbin/phs-boot-report"
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
  if [ "$MINIMAL" = 1 ]; then
    # No X and no browser in a minimal image: `phs devices` only reports the outputs.
    sed -i '/^PHS_KIOSK_COMMAND=/d' "$root/etc/phs/phs.env"
  else
    # The X server the kiosks draw on (supervisord program `display`), forced onto the
    # modesetting driver: it names outputs after the kernel's connectors (phs-kiosk).
    install -m 0644 "$HERE/files/supervisord-display.conf" "$root/etc/supervisor/phs.d/display.conf"
    install -d "$root/etc/X11/xorg.conf.d"
    install -m 0644 "$HERE/files/20-phs-display.conf" "$root/etc/X11/xorg.conf.d/20-phs-display.conf"
    # The access point and DHCP on a read-only root (their settings are on the data partition).
    install -d "$root/etc/systemd/system/hostapd.service.d" "$root/etc/systemd/system/dnsmasq.service.d" "$root/etc/dnsmasq.d"
    install -m 0644 "$HERE/files/hostapd-condition.conf" "$root/etc/systemd/system/hostapd.service.d/phs-condition.conf"
    install -m 0644 "$HERE/files/dnsmasq-restart.conf" "$root/etc/systemd/system/dnsmasq.service.d/phs-restart.conf"
    install -m 0644 "$HERE/files/dnsmasq-leases.conf" "$root/etc/dnsmasq.d/phs-leases.conf"
  fi
  # The mDNS name phs.local and the generated hostapd/dnsmasq files come from the same
  # code that applies a bundle on the box (appliance.network.config).
  in_root "$root" /opt/phs/current/venv/bin/python -m appliance.network.config --root / --defaults >&2
  in_root "$root" systemctl enable phs.service phs-firstboot.service phs-boot-report.service phs-update.path >/dev/null 2>&1 || true
  in_root "$root" systemctl disable supervisor.service >/dev/null 2>&1 || true
  # The root is read-only and the box is offline: nothing refreshes apt lists or backs up
  # the dpkg database on it (both would fail on every run).
  in_root "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer >/dev/null 2>&1 || true
  # systemd creates a unit's StateDirectory= at its start, which a read-only root refuses
  # (systemd-logind would fail on every boot): they exist in the image instead.
  local dir
  for dir in $(sed -n 's/^StateDirectory=//p' "$root"/usr/lib/systemd/system/*.service | tr ' ' '\n' | sort -u); do
    install -d -m 0755 "$root/var/lib/$dir"
  done
  if [ "$MINIMAL" != 1 ]; then
    # Debian masks hostapd until it is configured; ours is (from /var/lib/phs/network).
    in_root "$root" systemctl unmask hostapd.service >/dev/null 2>&1 || true
    in_root "$root" systemctl enable systemd-networkd.service hostapd.service dnsmasq.service avahi-daemon.service phs-network.path >/dev/null 2>&1 || true
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

esp() {
  # The EFI system partition as a FAT32 file: systemd-boot at the removable-media path
  # (EFI/BOOT/BOOTX64.EFI, which every UEFI firmware boots without an NVRAM entry), one
  # loader entry, and the kernel and initramfs beside it (systemd-boot reads only the ESP).
  local root="$1" out="$2" stage kernel kver initrd efi
  kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)"
  [ -n "$kernel" ] || die "no kernel in $root/boot (a tree built by 'rootfs' has none; let 'image' build it)"
  kver="${kernel##*/vmlinuz-}"
  initrd="$root/boot/initrd.img-$kver"
  efi="$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
  [ -f "$initrd" ] || die "no initramfs for $kver"
  [ -f "$efi" ] || die "no systemd-boot in the root filesystem ($efi)"
  stage="$(dirname "$out")/esp"
  rm -rf "$stage"
  install -d "$stage/EFI/BOOT" "$stage/loader/entries" "$stage/phs"
  install -m 0644 "$efi" "$stage/EFI/BOOT/BOOTX64.EFI"
  install -m 0644 "$kernel" "$stage/phs/vmlinuz"
  install -m 0644 "$initrd" "$stage/phs/initrd.img"
  # No menu (hold a key at power-on to see it) and no editing of the kernel command line
  # at boot: a keyboard in the hall must not get a root shell with init=/bin/sh.
  printf 'default phs.conf\ntimeout 0\neditor no\n' > "$stage/loader/loader.conf"
  cat > "$stage/loader/entries/phs.conf" <<ENTRY
title   PHS - Phong hop so $(version) (Debian $SUITE, Linux $kver)
linux   /phs/vmlinuz
initrd  /phs/initrd.img
options $KERNEL_OPTIONS
ENTRY
  find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  rm -f "$out"
  # --invariant fixes the FAT's times and serial; -i after it sets our own volume id.
  mkfs.fat -C -F 32 -n ESP --invariant -i "$ESP_VOLUME_ID" "$out" $((ESP_MIB * 1024)) >/dev/null
  mcopy -i "$out" -s -m -Q "$stage"/EFI "$stage"/loader "$stage"/phs ::/
  rm -rf "$stage"
}

image() {
  # Disk layout: ESP (systemd-boot, kernel) | root (ext4, mounted read-only) | data (LUKS2,
  # formatted on first boot with a key from the key stick: see phs-firstboot). The
  # filesystems are made in files and copied in at their offsets: no loop device needed.
  local out="$1" keep="${2:-}" root
  command -v mkfs.fat >/dev/null && command -v mcopy >/dev/null && command -v sfdisk >/dev/null \
    || { log "installing dosfstools, mtools, fdisk"; apt-get install -y dosfstools mtools fdisk >/dev/null; }
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/phs-image.XXXXXX")"
  local work="$WORK"
  root="${keep:-$work/root}"
  WITH_BOOT=1
  rootfs "$root"
  log "assembling $out"
  esp "$root" "$work/esp.img"
  truncate -s "${ROOT_MIB}M" "$work/root.img"
  mkfs.ext4 -q -L phs-root -U "$ROOT_FS_UUID" -E "root_owner=0:0,hash_seed=$ROOT_FS_UUID" -d "$root" "$work/root.img"
  rm -f "$out"
  truncate -s "${PHS_IMAGE_SIZE:-8G}" "$out"
  sfdisk --quiet --no-reread --no-tell-kernel "$out" <<PARTS
label: gpt
label-id: $DISK_GUID
start=1MiB, size=${ESP_MIB}MiB, type=uefi, name=esp, uuid=$ESP_PARTUUID
start=$((1 + ESP_MIB))MiB, size=${ROOT_MIB}MiB, type=$ROOT_TYPE, name=phs-root, uuid=$ROOT_PARTUUID
start=$((1 + ESP_MIB + ROOT_MIB))MiB, type=linux, name=phs-data, uuid=$DATA_PARTUUID
PARTS
  dd if="$work/esp.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$work/root.img" of="$out" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
  log "image ready: $out ($(du -h --apparent-size "$out" | cut -f1) disk, $(du -h "$out" | cut -f1) written; the data partition is encrypted at first boot)"
}

# On any exit: nothing left mounted in a tree, and the image's scratch folder gone
# (--one-file-system: should a failed debootstrap leave its own /proc mounted there).
MOUNTED=""
WORK=""
cleanup() {
  [ -z "$MOUNTED" ] || umount -l "$MOUNTED" || true
  [ -z "$WORK" ] || rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

case "${1:-}" in
  rootfs) rootfs "${2:?target directory}" ;;
  image) image "${2:?output file}" "${3:-}" ;;
  *) echo "usage: $0 rootfs DIR | image OUT.img [ROOTFS_DIR]" >&2; exit 2 ;;
esac
