# shellcheck shell=bash
# `weft_pip_venv LABEL PACKAGE VERSION`: a Python venv with PACKAGE==VERSION from PyPI, in a cache
# outside the repo keyed by the pinned version (~/.cache/weft/LABEL/KEY/venv), installed on first
# use. `weft_pip_venv_requirements LABEL REQUIREMENT...` does the same for several pinned
# requirements (`name==version` each), keyed by all of them. Both set WEFT_PIP_VENV to the venv's
# directory. For the peer scripts beside this one, which are sourced with `set -euo pipefail`
# active: a failed install returns non-zero, and the cache is marked complete only after the
# install succeeded.

# `weft_pip_install LABEL KEY REQUIREMENT...`: the venv under ~/.cache/weft/LABEL/KEY.
weft_pip_install() {
  local label="$1" key="$2"
  shift 2
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/$label/$key"
  if [ ! -f "$dir/.complete" ]; then
    echo "$label: installing $* into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 -m venv "$dir/venv" || return 1
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" || return 1
    touch "$dir/.complete"
  else
    echo "$label: cached in $dir"
  fi
  WEFT_PIP_VENV="$dir/venv"
}

weft_pip_venv() {
  local label="$1" package="$2" version="$3"
  weft_pip_install "$label" "$(printf '%s=%s v1' "$package" "$version" | sha256sum | cut -c1-16)" \
    "$package==$version"
}

weft_pip_venv_requirements() {
  local label="$1"
  shift
  weft_pip_install "$label" "$(printf '%s\n' "$@" v1 | sha256sum | cut -c1-16)" "$@"
}
