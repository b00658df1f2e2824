# shellcheck shell=bash
# `weft_pip_venv LABEL PACKAGE VERSION`: a Python venv with PACKAGE==VERSION from PyPI, in a cache
# outside the repo keyed by the pinned version (~/.cache/weft/LABEL/KEY/venv), installed on first
# use. Sets WEFT_PIP_VENV to the venv's directory. For the peer scripts beside this one, which are
# sourced with `set -euo pipefail` active: a failed install returns non-zero, and the cache is
# marked complete only after the install succeeded.

weft_pip_venv() {
  local label="$1" package="$2" version="$3"
  local key dir
  key="$(printf '%s=%s v1' "$package" "$version" | sha256sum | cut -c1-16)"
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/$label/$key"
  if [ ! -f "$dir/.complete" ]; then
    echo "$label: installing $package $version into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 -m venv "$dir/venv" || return 1
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package==$version" || return 1
    touch "$dir/.complete"
  else
    echo "$label: cached in $dir"
  fi
  WEFT_PIP_VENV="$dir/venv"
}
