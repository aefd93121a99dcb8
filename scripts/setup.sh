#!/usr/bin/env bash
# One idempotent setup step for a development, CI or lab machine.
#
# From a fresh Debian machine it installs the Debian packages and the Python virtualenv the
# project needs, starts a Docker engine when none answers, builds the lab host images and the
# Dkron images, and saves the image archives the lab hosts load. Every step is cached: a second
# run reuses what is there and says so.
#
# Knobs (environment):
#   LAB_SUITES          Debian suites for lab host images (default "bookworm trixie")
#   DKRON_VERSIONS      Dkron versions to provide (default "4.1.2 4.1.1"; the first is the target)
#   DKRON_BINARY_DIR    a directory holding <version>/dkron binaries built elsewhere; used when
#                       the Go module cannot be fetched here (air-gapped or filtered proxies)
#   SETUP_SKIP_IMAGES   set to 1 to stop after the virtualenv (no Docker work)
#   HACRON_CACHE        the per-user cache of binaries and archives (default ~/.cache/hacron)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Heavy, slow-to-make things (Dkron binaries, image archives, downloaded .debs) live in a cache per
# user, shared by every checkout and CI clone on the machine; .cache/ in the checkout holds only
# what belongs to this checkout (the collection link, build outputs).
CACHE="${HACRON_CACHE:-$HOME/.cache/hacron}"
VENV="$ROOT/.venv"
LAB_SUITES="${LAB_SUITES:-bookworm trixie}"
DKRON_VERSIONS="${DKRON_VERSIONS:-4.1.2 4.1.1}"
DKRON_MODULE="github.com/distribworks/dkron/v4"
# Empty: debootstrap's own default mirror.
DEBIAN_MIRROR="${DEBIAN_MIRROR:-}"
# Bump when the steps that turn a debootstrap tree into an image change, to rebuild the images.
ROOTFS_RECIPE_VERSION=4

started=$(date +%s)
reused=()
built=()
missing=()

say() { printf '[setup] %s\n' "$*"; }
reuse() { reused+=("$1"); say "reused: $1"; }
made() { built+=("$1"); say "built: $1"; }

mkdir -p "$CACHE"/{dkron,images,rootfs,debs,logs}

# --- Debian packages -------------------------------------------------------------------------
apt_packages=(docker.io debootstrap iproute2 ca-certificates)
need=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  say "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  made "Debian packages (${need[*]})"
else
  reuse "Debian packages (${apt_packages[*]})"
fi

# --- Python virtualenv -----------------------------------------------------------------------
req_sum=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
if [[ -x "$VENV/bin/python" && "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" == "$req_sum" ]]; then
  reuse "virtualenv .venv (requirements.txt unchanged)"
else
  say "creating virtualenv .venv from requirements.txt"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  echo "$req_sum" >"$VENV/.requirements.sha256"
  made "virtualenv .venv"
fi

# ansible, ansible-playbook and ansible-doc find hacron.dkron through this link (ansible.cfg).
link="$ROOT/.cache/collections/ansible_collections/hacron/dkron"
if [[ ! -L "$link" ]]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
fi

# ansible-test bootstraps pip in its virtualenvs with a script it downloads from a host we cannot
# reach; give it our stand-in under the name of the pip version it pins.
pip_pin=$("$VENV/bin/python" -c 'import re, ansible_test, pathlib; print(re.search(r"pip=.([0-9.]+).", (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()).group(1))')
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_pin//./_}.py"
if ! cmp -s "$ROOT/scripts/ansible_test_get_pip.py" "$get_pip"; then
  install -D -m 0644 "$ROOT/scripts/ansible_test_get_pip.py" "$get_pip"
fi

if [[ "${SETUP_SKIP_IMAGES:-0}" == 1 ]]; then
  say "SETUP_SKIP_IMAGES=1: stopping before the Docker work"
  exit 0
fi

# --- Docker engine ---------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  reuse "running Docker engine"
else
  say "starting dockerd (log: $CACHE/logs/dockerd.log)"
  # No systemd as PID 1 on these machines: run the daemon in its own session.
  setsid nohup dockerd >"$CACHE/logs/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { say "dockerd did not answer within 60 s"; tail -20 "$CACHE/logs/dockerd.log"; exit 1; }
  made "Docker engine started"
fi

# --- Root filesystem images from debootstrap -------------------------------------------------
# import_rootfs IMAGE SUITE PACKAGES CMD KEEP_APT_LISTS: debootstrap a minimal Debian and import it
# as IMAGE.
# The image carries a label with the recipe's hash, so a changed package list rebuilds it.
import_rootfs() {
  local image=$1 suite=$2 packages=$3 cmd=$4 keep_apt_lists=$5 recipe
  recipe=$(printf '%s|' "$suite" "$packages" "$cmd" "$keep_apt_lists" "$ROOTFS_RECIPE_VERSION" | sha256sum | cut -d' ' -f1)
  if [[ "$(docker image inspect -f '{{ index .Config.Labels "io.hacron.recipe" }}' "$image" 2>/dev/null)" == "$recipe" ]]; then
    reuse "image $image"
    return
  fi
  local dir="$CACHE/rootfs/${image//[:\/]/_}" log="$CACHE/logs/debootstrap-${image//[:\/]/_}.log"
  say "debootstrap $suite for $image (a minute or two)"
  rm -rf "$dir"
  debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$packages" \
    "$suite" "$dir" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$log" 2>&1 || { tail -20 "$log"; exit 1; }
  # debootstrap writes only the release's "main"; add its -updates suite from the same mirror.
  sed -n "s/^deb \(.*\) $suite main\$/deb \1 $suite-updates main/p" "$dir/etc/apt/sources.list" >>"$dir/etc/apt/sources.list"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  if [[ "$keep_apt_lists" == yes ]]; then
    # A host keeps apt's lists, as an installed one has them: with none, Ansible's apt module
    # sees a just-built (empty) cache as fresh and skips the update.
    chroot "$dir" apt-get update -qq >>"$log" 2>&1 || { tail -20 "$log"; exit 1; }
  fi
  tar -C "$dir" -c . | docker import -c "CMD $cmd" -c "LABEL io.hacron.recipe=$recipe" - "$image" >/dev/null
  rm -rf "$dir"
  made "image $image"
}

for suite in $LAB_SUITES; do
  # The lab's "bare-metal" hosts: systemd as PID 1, Python for Ansible, sudo and iproute2.
  import_rootfs "hacron/lab-host:$suite" "$suite" \
    "python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo,gnupg" \
    '["/lib/systemd/systemd"]' yes
done
# The base of our Dkron images: plain Debian with a shell, time zones and CA certificates.
import_rootfs "hacron/dkron-base:bookworm" bookworm "ca-certificates,tzdata,procps" '["/bin/sh"]' no
# A local stand-in for an image with Python (no registry here): the base the dkron role's custom
# image builds on in the rolling_update scenario (dkron_build_base_image).
import_rootfs "hacron/python-base:bookworm" bookworm "ca-certificates,tzdata,procps,python3,python3-venv" '["/bin/sh"]' no

# save_archive IMAGE ARCHIVE: `docker save` IMAGE to ARCHIVE, again only when the image changed.
save_archive() {
  local image=$1 archive=$2 id
  id=$(docker image inspect -f '{{ .Id }}' "$image")
  if [[ -s "$archive" && "$(cat "$archive.id" 2>/dev/null)" == "$id" ]]; then
    reuse "archive $(basename "$archive")"
  else
    docker save -o "$archive" "$image"
    echo "$id" >"$archive.id"
    made "archive $(basename "$archive")"
  fi
}
save_archive hacron/python-base:bookworm "$CACHE/images/python-base-bookworm.tar"

# --- Dkron binaries --------------------------------------------------------------------------
# provide_dkron VERSION: puts a static dkron binary reporting VERSION at .cache/dkron/VERSION/dkron.
provide_dkron() {
  local version=$1 dest="$CACHE/dkron/$1/dkron"
  if [[ -x "$dest" ]] && "$dest" version 2>/dev/null | grep -q "Version: $version"; then
    reuse "dkron $version binary"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  if [[ -n "${DKRON_BINARY_DIR:-}" && -x "$DKRON_BINARY_DIR/$version/dkron" ]]; then
    "$DKRON_BINARY_DIR/$version/dkron" version | grep -q "Version: $version" ||
      { say "$DKRON_BINARY_DIR/$version/dkron does not report version $version"; return 1; }
    install -m 0755 "$DKRON_BINARY_DIR/$version/dkron" "$dest"
    made "dkron $version binary (copied from DKRON_BINARY_DIR)"
    return 0
  fi
  say "building dkron $version from the Go module $DKRON_MODULE@v$version"
  local gobin="$CACHE/dkron/$version/gobin" log="$CACHE/logs/go-install-dkron-$version.log"
  if CGO_ENABLED=0 GOBIN="$gobin" go install -trimpath \
      -ldflags "-s -w -X $DKRON_MODULE/dkron.Version=$version" "$DKRON_MODULE@v$version" >"$log" 2>&1; then
    mv "$gobin/dkron" "$dest" && rm -rf "$gobin"
    made "dkron $version binary (go install)"
    return 0
  fi
  say "cannot build dkron $version: $(grep -m1 -E 'go: |error' "$log" || tail -1 "$log")"
  return 1
}

# provide_dkron_image VERSION: the image hacron/dkron:VERSION around the binary, and its archive.
provide_dkron_image() {
  local version=$1 image="hacron/dkron:$1" binary="$CACHE/dkron/$1/dkron"
  local archive="$CACHE/images/dkron-$version.tar" inputs
  # Rebuild when the binary or the base image changed.
  inputs="$(sha256sum "$binary" | cut -d' ' -f1)/$(docker image inspect -f '{{ .Id }}' hacron/dkron-base:bookworm)"
  if [[ "$(docker image inspect -f '{{ index .Config.Labels "io.hacron.inputs" }}' "$image" 2>/dev/null)" == "$inputs" ]]; then
    reuse "image $image"
  else
    local ctx
    ctx=$(mktemp -d)
    cp "$binary" "$ctx/dkron"
    cp "$ROOT/lab/images/dkron.Dockerfile" "$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q --build-arg "VERSION=$version" --label "io.hacron.inputs=$inputs" \
      -t "$image" "$ctx" >/dev/null 2>&1 || { rm -rf "$ctx"; say "docker build of $image failed"; return 1; }
    rm -rf "$ctx"
    made "image $image"
  fi
  save_archive "$image" "$archive"
}

for version in $DKRON_VERSIONS; do
  if provide_dkron "$version"; then
    provide_dkron_image "$version"
  else
    missing+=("dkron $version")
  fi
done

# --- Summary ---------------------------------------------------------------------------------
say "done in $(($(date +%s) - started)) s: ${#built[@]} built, ${#reused[@]} reused"
if ((${#missing[@]})); then
  say "NOT AVAILABLE: ${missing[*]}"
  say "  The Go module proxy did not serve $DKRON_MODULE (see $CACHE/logs/go-install-dkron-*.log)."
  say "  Provide binaries with DKRON_BINARY_DIR=<dir with VERSION/dkron> and run this again."
  say "  Tests that need a real Dkron fail or skip with that reason until then."
  [[ "${HACRON_REQUIRE_DKRON:-0}" == 1 ]] && exit 1
fi
exit 0
