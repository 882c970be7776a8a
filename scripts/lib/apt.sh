# shellcheck shell=bash
# Shared apt helpers, sourced by scripts that install Debian packages (we run as root).
# Sourcing this file defines functions only; it changes no shell option and runs nothing.
#
#   apt_ensure_packages PKG...           install what is missing; `apt-get update` only when needed
#   apt_debian_mirror                    print "URI<TAB>SIGNED_BY" of this machine's Debian archive
#   apt_fetch_source SUITE PKG DEST_DIR  `apt-get source PKG` from SUITE through a private apt setup
#   apt_fetch_binary SUITE PKG DEST_DIR  `apt-get download PKG` (the .deb only) the same way

# Logs go to stderr so that callers can keep stdout for their one-line answers.
apt_log() { printf '[apt] %s\n' "$*" >&2; }

apt_is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = 'install ok installed' ]
}

# True when apt has no binary package lists at all (fresh image, or lists cleaned to save space).
apt_lists_absent() {
  ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

apt_has_candidate() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')"
  [ -n "$candidate" ] && [ "$candidate" != '(none)' ]
}

# Other scripts may be installing at the same moment: wait for dpkg's lock instead of failing.
apt_lock_wait=(-o DPkg::Lock::Timeout=900)

apt_update() { apt-get "${apt_lock_wait[@]}" update -q >&2; }

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_lock_wait[@]}" install -y -q --no-install-recommends "$@" >&2
}

# Installs each named package that is not installed yet. A run where everything is present
# touches neither the network nor dpkg, so it is cheap enough to call on every start.
apt_ensure_packages() {
  local missing=() package
  for package in "$@"; do
    apt_is_installed "$package" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0

  local needs_update=0
  if apt_lists_absent; then
    needs_update=1
  else
    for package in "${missing[@]}"; do
      apt_has_candidate "$package" || needs_update=1
    done
  fi
  if [ "$needs_update" -eq 1 ]; then
    apt_log "apt-get update (package lists absent or without: ${missing[*]})"
    apt_update
  fi
  apt_log "apt-get install ${missing[*]}"
  # Lists that are present but stale name .debs the mirror no longer has: refresh once, retry.
  if ! apt_install "${missing[@]}"; then
    apt_log 'install failed; refreshing package lists and retrying once'
    apt_update
    apt_install "${missing[@]}"
  fi
}

# Prints the URI (and Signed-By, possibly empty) of the entry in the machine's own apt sources
# that serves this release's main suite, so that other suites can be fetched from the same
# mirror without naming a host here. Reads deb822 *.sources and one-line *.list files.
apt_debian_mirror() {
  local codename=''
  if [ -r /etc/os-release ]; then
    codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
  fi
  local files=()
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  local file
  for file in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && files+=("$file")
  done
  [ "${#files[@]}" -gt 0 ] || { apt_log 'no apt sources found'; return 1; }

  local found
  found="$(
    for file in "${files[@]}"; do
      case "$file" in
        *.sources) awk -v codename="$codename" '
            function flush() {
              if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
                split(uris, list, " ")
                rank = (codename != "" && (" " suites " ") ~ (" " codename " ")) ? 1 : (list[1] ~ /\/debian\/?$/ ? 2 : 3)
                print rank "\t" list[1] "\t" signed
              }
              types = uris = suites = signed = enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            { key = tolower($1); sub(/^[^:]*:[ \t]*/, ""); value = $0 }
            key == "types:" { types = value } key == "uris:" { uris = value }
            key == "suites:" { suites = value } key == "signed-by:" { signed = value }
            key == "enabled:" { enabled = tolower(value) }
            END { flush() }' "$file" ;;
        *) awk -v codename="$codename" '
            $1 != "deb" { next }
            {
              signed = ""; field = 2
              if ($2 ~ /^\[/) {
                while (field <= NF) {
                  if ($field ~ /^\[?signed-by=/) { signed = $field; sub(/^\[?signed-by=/, "", signed); sub(/\]$/, "", signed) }
                  if ($field ~ /\]$/) { field++; break }
                  field++
                }
              }
              uri = $field; suite = $(field + 1)
              rank = (codename != "" && suite == codename) ? 1 : (uri ~ /\/debian\/?$/ ? 2 : 3)
              print rank "\t" uri "\t" signed
            }' "$file" ;;
      esac
    done | sort -t "$(printf '\t')" -k1,1n -s | awk -F '\t' '$1 < 3 { print $2 "\t" $3; exit }'
  )"
  [ -n "$found" ] || { apt_log "no Debian archive entry (suite ${codename:-?}) in the apt sources"; return 1; }
  printf '%s\n' "$found"
}

# Downloads and unpacks source package PKG from SUITE into DEST_DIR with `apt-get source`,
# through an apt configuration of its own (sources, lists and cache in a temporary directory):
# /etc/apt and the system's package lists are left exactly as they were.
apt_fetch_source() {
  apt_private_fetch deb-src source "$@"
}

# Downloads binary package PKG (.deb, this machine's architecture) from SUITE into DEST_DIR
# with `apt-get download`, through the same kind of private apt configuration. Nothing is
# installed: the caller unpacks what it needs (dpkg-deb -x).
apt_fetch_binary() {
  apt_private_fetch deb download "$@"
}

# apt_private_fetch TYPE VERB SUITE PKG DEST_DIR: the shared body of the two above.
apt_private_fetch() {
  local source_type="$1" verb="$2" suite="$3" package="$4" dest_dir="$5"
  local mirror uri signed_by
  mirror="$(apt_debian_mirror)" || return 1
  uri="${mirror%%$'\t'*}"
  signed_by="${mirror#*$'\t'}"

  local private_dir
  private_dir="$(mktemp -d "${TMPDIR:-/tmp}/apt-private.XXXXXX")"
  # apt downloads as the unprivileged _apt user; let it reach and write its own directories.
  chmod 755 "$private_dir"
  mkdir -p "$private_dir/sources.list.d" "$private_dir/lists/partial" "$private_dir/cache/archives/partial"
  : >"$private_dir/sources.list"
  {
    printf 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\n' "$source_type" "$uri" "$suite"
    [ -n "$signed_by" ] && printf 'Signed-By: %s\n' "$signed_by"
  } >"$private_dir/sources.list.d/$suite-$source_type.sources"
  if id _apt >/dev/null 2>&1; then
    chown -R _apt "$private_dir/lists/partial" "$private_dir/cache/archives/partial"
  fi
  local private_options=(
    -o "Dir::Etc::SourceList=$private_dir/sources.list"
    -o "Dir::Etc::SourceParts=$private_dir/sources.list.d"
    -o "Dir::State::Lists=$private_dir/lists"
    -o "Dir::Cache=$private_dir/cache"
    -o 'Dir::Cache::pkgcache=' -o 'Dir::Cache::srcpkgcache='
  )

  apt_log "fetching $source_type package $package from $suite ($uri) with a private apt configuration"
  local status=0
  apt-get -q "${private_options[@]}" update >&2 || status=$?
  if [ "$status" -eq 0 ]; then
    mkdir -p "$dest_dir"
    id _apt >/dev/null 2>&1 && chown _apt "$dest_dir"
    (cd "$dest_dir" && apt-get -q "${private_options[@]}" "$verb" "$package" >&2) || status=$?
  fi
  rm -rf "$private_dir"
  return "$status"
}
