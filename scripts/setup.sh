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
#   DKRON_VERSIONS      Dkron versions to provide (default: the four the tests use; the first is
#                       the target)
#   DKRON_BINARY_DIR    a directory holding <version>/dkron or <version>/dkron.xz built elsewhere,
#                       with an optional SHA256SUMS; tried first (see provide_dkron)
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
DKRON_VERSIONS="${DKRON_VERSIONS:-4.1.2 4.1.1 4.0.9 4.0.8}"
DKRON_GO_MIN=1.26
DKRON_MODULE="github.com/distribworks/dkron/v4"
# Empty: debootstrap's own default mirror.
DEBIAN_MIRROR="${DEBIAN_MIRROR:-}"
# Bump when the steps that turn a debootstrap tree into an image change, to rebuild the images.
ROOTFS_RECIPE_VERSION=4

started=$(date +%s)
missing=()
missing_reasons=()

say() { printf '[setup] %s\n' "$*"; }
# Steps are counted in a file: the image lanes below run in subshells.
STEPS=$(mktemp)
trap 'rm -f "$STEPS"' EXIT
reuse() { echo reused >>"$STEPS"; say "reused: $1"; }
made() { echo built >>"$STEPS"; say "built: $1"; }

mkdir -p "$CACHE"/{dkron,images,rootfs,debs,logs}

# --- Debian packages -------------------------------------------------------------------------
apt_packages=(docker.io debootstrap iproute2 ca-certificates xz-utils)
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

# --- promtool and amtool, for the alert rules' and the monitoring role's unit tests -------------
# From Debian's prometheus and prometheus-alertmanager packages, unpacked into the cache rather
# than installed: installing them would start the servers on this machine.
unpack_tool() {
  local package=$1 tool="$CACHE/prometheus/usr/bin/$2"
  if [[ -x "$tool" ]]; then
    reuse "$2 ($("$tool" --version 2>&1 | head -1 | cut -d' ' -f3))"
    return
  fi
  say "unpacking $2 from Debian's $package package"
  mkdir -p "$CACHE/debs/$package"
  (cd "$CACHE/debs/$package" && { apt-get download -qq "$package" 2>/dev/null || { apt-get update -qq && apt-get download -qq "$package"; }; })
  dpkg-deb -x "$(ls -t "$CACHE/debs/$package/${package}"_*.deb | head -1)" "$CACHE/prometheus"
  "$tool" --version >/dev/null
  made "$2"
}
unpack_tool prometheus promtool
unpack_tool prometheus-alertmanager amtool

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
  engine_started_here=1
fi

# --- Disk ------------------------------------------------------------------------------------
# Each lab or molecule host keeps its nested Docker engine in an anonymous volume. Until molecule's
# platforms said keep_volumes: false, every destroy left those behind (a few GB a run), and a
# disk that fills up mid-run fails the scenarios with errors that do not say so. On an engine this
# script started (the project's own) the leftovers are removed: dangling volumes that hold a
# Docker engine's data root. On an engine someone else runs they are only counted.
nested_engine_leftovers() {
  local volume mountpoint
  for volume in $(docker volume ls -q --filter dangling=true); do
    mountpoint=$(docker volume inspect -f '{{ .Mountpoint }}' "$volume")
    [[ -d "$mountpoint/image" && -d "$mountpoint/containers" ]] && echo "$volume"
  done
  return 0
}
mapfile -t leftovers < <(nested_engine_leftovers)
if ((${#leftovers[@]})); then
  if [[ "${engine_started_here:-0}" == 1 ]]; then
    docker volume rm "${leftovers[@]}" >/dev/null
    say "removed ${#leftovers[@]} dangling volumes of nested Docker engines left by earlier runs"
  else
    say "note: ${#leftovers[@]} dangling volumes of nested Docker engines (earlier runs' lab hosts); 'docker volume rm' them to free the disk"
  fi
fi
# A full `make test` took 15 GB more than the cache at its peak (2026-12-06: 17 to 32 GB used).
MIN_FREE_GB="${SETUP_MIN_FREE_GB:-20}"
docker_root=$(docker info -f '{{ .DockerRootDir }}')
free_gb=$(($(df -Pk "$docker_root" | awk 'NR == 2 { print $4 }') / 1024 / 1024))
if ((free_gb < MIN_FREE_GB)); then
  say "only $free_gb GB free under $docker_root; a full test run needs about $MIN_FREE_GB GB (SETUP_MIN_FREE_GB)"
  exit 1
fi
say "disk: $free_gb GB free under $docker_root"

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
  # A download cache per image: images of one suite are made side by side (below).
  mkdir -p "$CACHE/debs/${image//[:\/]/_}"
  debootstrap --variant=minbase --cache-dir="$CACHE/debs/${image//[:\/]/_}" --include="$packages" \
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

# seed_host_image SUITE: hacron/lab-host-seeded:SUITE, the lab host with the Debian packages the
# roles install (with their recommends, as the roles' apt tasks get them). Scenarios that do not
# test installing packages start from it (scripts/molecule_all.sh); `default` keeps bare hosts.
# (ansible-core and python3-requests: the reconcile timer's, on the control host.)
SEEDED_PACKAGES="docker.io python3-docker nftables nginx python3-cryptography ansible-core python3-requests"
seed_host_image() {
  local suite=$1 base="hacron/lab-host:$1" image="hacron/lab-host-seeded:$1" inputs log="$CACHE/logs/seed-$1.log"
  inputs="$(docker image inspect -f '{{ .Id }}' "$base")/$SEEDED_PACKAGES"
  if [[ "$(docker image inspect -f '{{ index .Config.Labels "io.hacron.inputs" }}' "$image" 2>/dev/null)" == "$inputs" ]]; then
    reuse "image $image"
    return
  fi
  say "installing the roles' packages into $image"
  printf 'FROM %s\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s && rm -rf /var/cache/apt/archives/*.deb\n' \
    "$base" "$SEEDED_PACKAGES" |
    DOCKER_BUILDKIT=0 docker build -q --label "io.hacron.inputs=$inputs" -t "$image" - >"$log" 2>&1 ||
    { tail -20 "$log"; exit 1; }
  made "image $image"
}

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

# The images are made in lanes side by side: a lane waits mostly on the mirror or on dpkg, so two
# cores keep three busy. A cold setup's longest part (measured: see the README).
host_lane() {
  local suite=$1
  # The lab's "bare-metal" hosts: systemd as PID 1, Python for Ansible, sudo, iproute2, and an SSH
  # server (the lab's inventory reaches them over SSH, as a site reaches its servers).
  import_rootfs "hacron/lab-host:$suite" "$suite" \
    "python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo,gnupg,openssh-server" \
    '["/lib/systemd/systemd"]' yes
  seed_host_image "$suite"
}
bases_lane() {
  # The base of our Dkron images: plain Debian with a shell, time zones and CA certificates.
  import_rootfs "hacron/dkron-base:bookworm" bookworm "ca-certificates,tzdata,procps" '["/bin/sh"]' no
  # A local stand-in for an image with Python (no registry here): the base the dkron role's custom
  # image builds on in the rolling_update scenario (dkron_build_base_image).
  import_rootfs "hacron/python-base:bookworm" bookworm "ca-certificates,tzdata,procps,python3,python3-venv" '["/bin/sh"]' no
  save_archive hacron/python-base:bookworm "$CACHE/images/python-base-bookworm.tar"
}
lanes=()
for suite in $LAB_SUITES; do host_lane "$suite" & lanes+=($!); done
bases_lane & lanes+=($!)
lane_failed=0
for lane in "${lanes[@]}"; do wait "$lane" || lane_failed=1; done
((lane_failed == 0)) || { say "an image could not be made (see the lines above and $CACHE/logs)"; exit 1; }

# --- Dkron binaries --------------------------------------------------------------------------
# provide_dkron VERSION: puts a static dkron binary reporting VERSION at $CACHE/dkron/VERSION/dkron,
# from the first source that works, in this order:
#   1. DKRON_BINARY_DIR/VERSION/dkron or .../dkron.xz, checked against that directory's SHA256SUMS
#      when it has one (the project's machines: ../shared/dkron);
#   2. the official image dkron/dkron:VERSION from a registry (a user's machine), binary copied out;
#   3. `go install` of the Go module, with a Go new enough for it.
# Every source ends in the same binary, so the loopback tests and the lab images use one thing.
# The source is recorded next to the binary and named in the summary.
dkron_sources=()

# Captured, not piped into grep -q: grep's early exit would kill dkron with SIGPIPE, and pipefail
# would count that as a mismatch.
binary_reports() { [[ "$("$1" version 2>/dev/null)" == *"Version: $2"* ]]; }

from_binary_dir() {
  local version=$1 dest=$2 dir=${DKRON_BINARY_DIR:-} src tmp sums expected actual
  [[ -n "$dir" ]] || { why="DKRON_BINARY_DIR unset"; return 1; }
  if [[ -f "$dir/$version/dkron" ]]; then src="$dir/$version/dkron"
  elif [[ -f "$dir/$version/dkron.xz" ]]; then src="$dir/$version/dkron.xz"
  else why="no $version/dkron or $version/dkron.xz in DKRON_BINARY_DIR=$dir"; return 1; fi
  tmp="$dest.part"
  if [[ "$src" == *.xz ]]; then xz -dc "$src" >"$tmp"; else cp "$src" "$tmp"; fi
  sums="$dir/SHA256SUMS"
  if [[ -f "$sums" ]]; then
    expected=$(awk -v f="$version/dkron" '$2 == f || $2 == "*" f {print $1}' "$sums")
    actual=$(sha256sum "$tmp" | cut -d' ' -f1)
    if [[ -z "$expected" ]]; then
      rm -f "$tmp"; say "ERROR: $sums has no line for $version/dkron"; exit 1
    elif [[ "$expected" != "$actual" ]]; then
      rm -f "$tmp"; say "ERROR: $src does not match $sums (sha256 $actual, expected $expected)"; exit 1
    fi
  fi
  chmod 0755 "$tmp"
  binary_reports "$tmp" "$version" || { rm -f "$tmp"; say "ERROR: $src does not report version $version"; exit 1; }
  mv "$tmp" "$dest"
  if [[ -f "$sums" ]]; then source_of="DKRON_BINARY_DIR ($src, sha256 as in SHA256SUMS)"
  else source_of="DKRON_BINARY_DIR ($src, no SHA256SUMS to check against)"; fi
}

from_registry() {
  local version=$1 dest=$2 image="dkron/dkron:$1" log="$CACHE/logs/docker-pull-dkron-$1.log" container
  if ! timeout 120 docker pull -q "$image" >"$log" 2>&1; then
    why="docker pull $image: $(tail -1 "$log")"; return 1
  fi
  container=$(docker create "$image")
  docker cp "$container:/usr/local/bin/dkron" "$dest.part" >/dev/null 2>&1 ||
    docker cp "$container:/dkron" "$dest.part" >/dev/null 2>&1 || true
  docker rm "$container" >/dev/null
  [[ -s "$dest.part" ]] && chmod 0755 "$dest.part" && binary_reports "$dest.part" "$version" ||
    { rm -f "$dest.part"; why="no dkron $version binary found in $image"; return 1; }
  mv "$dest.part" "$dest"
  source_of="registry image $image"
}

from_go_module() {
  local version=$1 dest=$2 gobin="$CACHE/dkron/$1/gobin" log="$CACHE/logs/go-install-dkron-$1.log" have
  command -v go >/dev/null || { why="no Go toolchain"; return 1; }
  have=$(go env GOVERSION | sed 's/^go//')
  # Dkron 4's go.mod asks for Go 1.26; an older Go would try to fetch a toolchain instead.
  if ! printf '%s\n%s\n' "$DKRON_GO_MIN" "$have" | sort -V -C; then
    why="Go $have is too old for $DKRON_MODULE (needs $DKRON_GO_MIN)"; return 1
  fi
  if CGO_ENABLED=0 GOBIN="$gobin" GOTOOLCHAIN=local timeout 900 go install -trimpath \
      -ldflags "-s -w -X $DKRON_MODULE/dkron.Version=$version" "$DKRON_MODULE@v$version" >"$log" 2>&1; then
    mv "$gobin/dkron" "$dest" && rm -rf "$gobin"
    source_of="go install $DKRON_MODULE@v$version"
    return 0
  fi
  why="go install $DKRON_MODULE@v$version: $(grep -m1 -E 'go: |error' "$log" || tail -1 "$log")"
  return 1
}

provide_dkron() {
  local version=$1 dest="$CACHE/dkron/$1/dkron" source_of why reasons=()
  mkdir -p "$(dirname "$dest")"
  if [[ -x "$dest" ]] && binary_reports "$dest" "$version"; then
    reuse "dkron $version binary (from $(cat "$dest.source" 2>/dev/null || echo 'an earlier run'))"
    dkron_sources+=("$version: cached, from $(cat "$dest.source" 2>/dev/null || echo 'an earlier run')")
    return 0
  fi
  for source in from_binary_dir from_registry from_go_module; do
    why=""
    if "$source" "$version" "$dest"; then
      echo "$source_of" >"$dest.source"
      made "dkron $version binary from $source_of"
      dkron_sources+=("$version: $source_of")
      return 0
    fi
    reasons+=("$why")
  done
  missing_reasons+=("dkron $version: $(IFS=';'; echo "${reasons[*]}" | sed 's/;/; /g')")
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
say "done in $(($(date +%s) - started)) s: $(grep -c built "$STEPS") built, $(grep -c reused "$STEPS") reused"
for line in "${dkron_sources[@]}"; do say "dkron $line"; done
if ((${#missing[@]})); then
  say "NOT AVAILABLE: ${missing[*]}"
  for line in "${missing_reasons[@]}"; do say "  $line"; done
  say "  Give binaries with DKRON_BINARY_DIR=<dir with VERSION/dkron or VERSION/dkron.xz> (on the"
  say "  project's machines: DKRON_BINARY_DIR=../shared/dkron), or a registry with dkron/dkron, and run again."
  say "  Tests that need a real Dkron fail with that reason under HACRON_REQUIRE_DKRON=1, else skip."
  [[ "${HACRON_REQUIRE_DKRON:-0}" == 1 ]] && exit 1
fi
exit 0
