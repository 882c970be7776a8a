#!/usr/bin/env bash
# Deno smoke test: the same source files served by Deno 2 (functions/serve.deno.ts) on the
# embedded database: start, /healthz, /readyz, add-document, search, then stop.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=node_modules/deno/deno
[ -x "$DENO" ] || { echo "deno-smoke: $DENO missing; run npm install" >&2; exit 1; }
fixture=../shared/fixtures/models/glove-static-384d
export EMBEDDING_MODEL="${EMBEDDING_MODEL:-$( [ -d "$fixture" ] && echo "$fixture" || echo sentence-transformers/all-MiniLM-L6-v2)}"
data_dir=$(mktemp -d)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
log="$data_dir/deno.log"
DATA_DIR="$data_dir/data" PORT="$port" HOST=127.0.0.1 FUNCTIONS=add-document,search LOG_LEVEL=info \
  "$DENO" run --allow-all functions/serve.deno.ts >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data_dir"; }
trap cleanup EXIT
base="http://127.0.0.1:$port"
fail() { echo "deno-smoke: FAIL: $*" >&2; tail -n 30 "$log" >&2; exit 1; }
for _ in $(seq 1 120); do curl -sf "$base/readyz" >/dev/null 2>&1 && break; kill -0 "$pid" 2>/dev/null || fail "deno exited"; sleep 0.5; done
curl -sf "$base/healthz" | grep -q '"ok"' || fail "/healthz"
curl -sf "$base/readyz" | grep -q '"ready"' || fail "/readyz never ready"
status=$(curl -s -o "$data_dir/add.json" -w '%{http_code}' -X POST "$base/api/v1/knowledge/add-document" -H 'Content-Type: application/json' \
  -d '{"source":"README","content":"Deno serves the same handlers. The knowledge base stores chunks in pgvector."}')
[ "$status" = 201 ] || fail "add-document returned $status: $(cat "$data_dir/add.json")"
curl -sf -X POST "$base/api/v1/knowledge/search" -H 'Content-Type: application/json' -d '{"query":"where are chunks stored","top_k":1}' \
  | grep -q '"source":"README"' || fail "search did not find the document"
echo "deno-smoke: $("$DENO" --version | head -1) served healthz, readyz, add-document and search: 4 passed, 0 failed"
