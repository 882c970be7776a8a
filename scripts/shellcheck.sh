#!/usr/bin/env bash
# `bash scripts/shellcheck.sh`: Debian's shellcheck over every shell script of the project
# (scripts/, infra/scripts/, .ci/run), following the files they source. Installs shellcheck
# through scripts/lib/apt.sh when it is missing (idempotent; ~2 MB, seconds when cached).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt.sh
. scripts/lib/apt.sh
command -v shellcheck >/dev/null 2>&1 || apt_ensure_packages shellcheck
mapfile -t files < <(find scripts infra/scripts -name '*.sh' -type f | sort)
files+=(.ci/run)
shellcheck --external-sources --source-path=SCRIPTDIR "${files[@]}"
echo "shellcheck: ${#files[@]} scripts clean ($(shellcheck --version | awk '/^version:/ { print $2 }'))"
