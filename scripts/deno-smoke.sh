#!/usr/bin/env bash
# Deno smoke test: the same source files served by Deno 2 (functions/serve.deno.ts) on the
# embedded database, every function in one process: start, /healthz, /readyz, add-document,
# search, a chat over /ws/llm (hono/deno's WebSocket) against a real llama-server, and the
# HTTP security rules (keys, Host, Origin, limits, headers; tests/deno/http-security-check.ts)
# (scripts/llama-server.sh, the fixture model); then a chat on the embedded runtime
# (node-llama-cpp in the Deno process, LLM_MODEL_FILE); then stop everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=node_modules/deno/deno
[ -x "$DENO" ] || { echo "deno-smoke: $DENO missing; run npm install" >&2; exit 1; }
fixture=../shared/fixtures/models/glove-static-384d
export EMBEDDING_MODEL="${EMBEDDING_MODEL:-$( [ -d "$fixture" ] && echo "$fixture" || echo sentence-transformers/all-MiniLM-L6-v2)}"
data_dir=$(mktemp -d)
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
port=$(free_port)
llama_port=$(free_port)
log="$data_dir/deno.log"
pid=""
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  LLAMA_PORT="$llama_port" bash scripts/llama-server.sh stop >/dev/null 2>&1 || true
  rm -rf "$data_dir"
}
trap cleanup EXIT
llm_key=deno-smoke-key
llama_origin=$(LLAMA_PORT="$llama_port" LLM_API_KEY="$llm_key" LLAMA_CTX_SIZE=4096 bash scripts/llama-server.sh start)
write_key=deno-smoke-write-key
read_key=deno-smoke-read-key
DATA_DIR="$data_dir/data" PORT="$port" HOST=127.0.0.1 FUNCTIONS=all LOG_LEVEL=info \
  API_KEY="$write_key" READ_API_KEY="$read_key" WS_MAX_CONNECTIONS=4 WS_PING_INTERVAL_MS=1000 \
  LLM_BASE_URL="$llama_origin/v1" LLM_API_KEY="$llm_key" LLM_CONTEXT_TOKENS=2048 LLM_MAX_TOKENS=32 \
  "$DENO" run --allow-all functions/serve.deno.ts >"$log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
fail() { echo "deno-smoke: FAIL: $*" >&2; tail -n 30 "$log" >&2; exit 1; }
for _ in $(seq 1 120); do curl -sf "$base/readyz" >/dev/null 2>&1 && break; kill -0 "$pid" 2>/dev/null || fail "deno exited"; sleep 0.5; done
curl -sf "$base/healthz" | grep -q '"ok"' || fail "/healthz"
curl -sf "$base/readyz" | grep -q '"ready"' || fail "/readyz never ready"
status=$(curl -s -o "$data_dir/add.json" -w '%{http_code}' -X POST "$base/api/v1/knowledge/add-document" -H 'Content-Type: application/json' -H "Authorization: Bearer $write_key" \
  -d '{"source":"README","content":"Deno serves the same handlers. The knowledge base stores chunks in pgvector."}')
[ "$status" = 201 ] || fail "add-document returned $status: $(cat "$data_dir/add.json")"
curl -sf -X POST "$base/api/v1/knowledge/search" -H 'Content-Type: application/json' -H "Authorization: Bearer $read_key" -d '{"query":"where are chunks stored","top_k":1}' \
  | grep -q '"source":"README"' || fail "search did not find the document"
CHAT_KEY="$read_key" npx tsx tests/deno/ws-chat-check.ts "ws://127.0.0.1:$port/ws/llm" 'Where does the knowledge base store chunks?' 'Which volcano buried Pompeii?' \
  || fail "chat over /ws/llm"
npx tsx tests/deno/http-security-check.ts "$base" "$write_key" "$read_key" || fail "http security rules on Deno"

# The embedded chat runtime on Deno: no LLM_BASE_URL, node-llama-cpp loads the fixture GGUF in the Deno process.
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
embedded_port=$(free_port)
fixture_gguf=$(cd ../shared/fixtures/models 2>/dev/null && echo "$(pwd)/stories260K.gguf")
[ -f "$fixture_gguf" ] || fail "the embedded phase needs ../shared/fixtures/models/stories260K.gguf"
DATA_DIR="$data_dir/embedded-data" PORT="$embedded_port" HOST=127.0.0.1 FUNCTIONS=all LOG_LEVEL=info \
  LLM_MODEL_FILE="$fixture_gguf" LLM_MAX_TOKENS=32 \
  "$DENO" run --allow-all functions/serve.deno.ts >"$log" 2>&1 &
pid=$!
base="http://127.0.0.1:$embedded_port"
for _ in $(seq 1 360); do curl -sf "$base/readyz" >/dev/null 2>&1 && break; kill -0 "$pid" 2>/dev/null || fail "deno (embedded chat) exited"; sleep 0.5; done
curl -sf "$base/readyz" | grep -q '"ready"' || fail "/readyz never ready with the embedded chat model"
status=$(curl -s -o "$data_dir/add.json" -w '%{http_code}' -X POST "$base/api/v1/knowledge/add-document" -H 'Content-Type: application/json' \
  -d '{"source":"README","content":"Deno serves the same handlers. The knowledge base stores chunks in pgvector."}')
[ "$status" = 201 ] || fail "add-document (embedded phase) returned $status: $(cat "$data_dir/add.json")"
npx tsx tests/deno/ws-chat-check.ts "ws://127.0.0.1:$embedded_port/ws/llm" 'Where does the knowledge base store chunks?' 'Which volcano buried Pompeii?' \
  || fail "chat over /ws/llm on the embedded runtime"
echo "deno-smoke: $("$DENO" --version | head -1) served healthz, readyz, add-document, search, /ws/llm and the security rules, then /ws/llm on the embedded chat runtime: 7 passed, 0 failed"
