#!/usr/bin/env bash
# Installs bench/peers' own packages (LangChain.js and node-postgres, pinned in its
# package-lock.json) into bench/peers/node_modules, git-ignored and never part of the product.
# Idempotent: does nothing while the installed tree matches the lock file.
#
# --legacy-peer-deps: @langchain/community declares @huggingface/transformers ^3 as an optional
# peer; without the flag npm would install a second transformers.js (and onnxruntime) here.
# The peer then loads the project's own transformers.js, the same runtime local-rag uses.
# --ignore-scripts: nothing here needs an install script.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.local-rag-lock-sha256
wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then exit 0; fi
npm ci --legacy-peer-deps --ignore-scripts --no-audit --no-fund >&2
echo "$wanted" >"$stamp"
