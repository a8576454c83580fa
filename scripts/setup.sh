#!/usr/bin/env bash
# Sets up a machine for this repository: the system packages the project uses, pnpm, and the
# workspace's dependencies. Run from anywhere; it is idempotent and silent about what is already there.
#
# System packages, and what needs them:
#   g++, make, python3   node-gyp builds the @adl/onednn addon at install (the fast CPU backend)
#   libdnnl-dev          oneDNN, which that addon links
#   chromium             the quickstart's report test opens report.html in it (playwright-core)
#   mesa-vulkan-drivers  Mesa >= 25: llvmpipe, the software Vulkan adapter the WebGPU tests run on
#   valgrind             the memory checks of the addon (tests/memcheck)
#   slurm-wlm, munge     examples/slurm's test boots a one-node Slurm cluster (scripts/slurm-cluster.sh)
#   python3-torch, python3-numpy, python3-pil, python3-pytest
#                        python/adl_torch (retraining with PyTorch DDP) and its parity tests (tests/torch-parity)
# and vm.max_map_count >= 1048576: llvmpipe maps memory once per dispatch, and a training step makes
# more dispatches than Linux's default of 65530 allows.
#
# On Debian and Ubuntu they are installed with apt-get, as root or through sudo. Elsewhere, or
# without either, the script prints what to install and goes on: the demo runs without any of them
# (on the wasm backend), the tests need them all.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
MAP_COUNT=1048576

note() { printf 'setup: %s\n' "$*" >&2; }
trap 'note "failed (exit $?): $BASH_COMMAND"' ERR

have_dnnl() { [ -f /usr/include/oneapi/dnnl/dnnl.hpp ] || [ -f /usr/local/include/oneapi/dnnl/dnnl.hpp ]; }
mesa_version() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0; }

missing=()
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
have_dnnl || missing+=(libdnnl-dev)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || missing+=(munge)
# Debian's packages install into /usr/bin/python3's path (a python3 earlier on PATH may be another one).
for module in torch:python3-torch numpy:python3-numpy PIL:python3-pil pytest:python3-pytest; do
  /usr/bin/python3 -c "import ${module%%:*}" >/dev/null 2>&1 || missing+=("${module#*:}")
done

os_id=$( (. /etc/os-release 2>/dev/null && echo "${ID:-} ${ID_LIKE:-}") || echo unknown)
codename=$( (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || echo "")
apt_based=false
case " $os_id " in *" debian "* | *" ubuntu "*) command -v apt-get >/dev/null 2>&1 && apt_based=true ;; esac

if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  case " $os_id " in
    # Ubuntu's apt has no Chromium, only a snap: the test takes its path from CHROMIUM_PATH.
    *" ubuntu "*) note "Chromium: snap install chromium, then export CHROMIUM_PATH=/snap/bin/chromium" ;;
    *) missing+=(chromium) ;;
  esac
fi

as_root=()
can_root=true
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo); else can_root=false; fi
fi

need_mesa=false
mesa_word=""
if $apt_based && dpkg --compare-versions "$(mesa_version)" lt 25; then need_mesa=true; fi
if ! $apt_based && ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then need_mesa=true; fi
if $need_mesa; then mesa_word=" mesa-vulkan-drivers(>=25)"; fi

apt_install() {
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if $apt_based && $can_root; then
  if [ ${#missing[@]} -gt 0 ] || $need_mesa; then
    note "installing ${missing[*]}${mesa_word}"
    "${as_root[@]}" apt-get update -qq
  fi
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  if $need_mesa; then
    # Debian 12's Mesa (22.3) is too old for Dawn; bookworm-backports has 25.
    if [ "$codename" = bookworm ] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
        "${as_root[@]}" tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
      "${as_root[@]}" apt-get update -qq
    fi
    if [ "$codename" = bookworm ]; then apt_install -t bookworm-backports mesa-vulkan-drivers; else apt_install mesa-vulkan-drivers; fi
    dpkg --compare-versions "$(mesa_version)" ge 25 ||
      note "mesa-vulkan-drivers is $(mesa_version) here; the WebGPU tests need Mesa >= 25 (or a GPU's Vulkan driver)"
  fi
elif [ ${#missing[@]} -gt 0 ] || $need_mesa; then
  list="${missing[*]}${mesa_word}"
  if $apt_based; then
    note "cannot install system packages (not root, no sudo); as root run: apt-get install ${list}"
  else
    note "not Debian/Ubuntu: install these by their names here: ${list}"
    note "  (a C++ compiler, make, python3, oneDNN >= 2.6 headers and library, Chromium or CHROMIUM_PATH, a Vulkan driver, valgrind, Slurm and MUNGE, PyTorch, NumPy, Pillow and pytest for /usr/bin/python3)"
  fi
  note "going on without them: the demo runs on the wasm backend; tests that need them fail"
fi

if [ -r /proc/sys/vm/max_map_count ] && [ "$(cat /proc/sys/vm/max_map_count)" -lt "$MAP_COUNT" ]; then
  if ! { $can_root && echo "$MAP_COUNT" | "${as_root[@]}" tee /proc/sys/vm/max_map_count >/dev/null 2>&1; }; then
    note "vm.max_map_count is $(cat /proc/sys/vm/max_map_count) and cannot be raised here; as root on the host run:"
    note "  sysctl -w vm.max_map_count=$MAP_COUNT   (the WebGPU tests on llvmpipe need it)"
  fi
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  npm install --global --no-audit --no-fund "pnpm@$PNPM_VERSION" >/dev/null
fi
pnpm install --frozen-lockfile
