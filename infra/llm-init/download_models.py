"""The compose files' one-shot `llm_init` job: fetch the GGUF for llama-server and the
embedding model's files for the functions into the shared `models_data` volume.

Runs in python:3.11-slim. Nothing is installed or downloaded when every file is already
there, so re-running the job (every `docker compose up`) is instant and works offline.

Environment (from the env file):
  HF_TOKEN        token for gated repos (the seed's Gemma repo needs accepted terms)
  HF_REPO_ID      GGUF repo, e.g. google/gemma-3-4b-it-qat-q4_0-gguf
  HF_FILENAME     GGUF file, written to /models/<HF_FILENAME>
  HF_REVISION     branch, tag or commit of HF_REPO_ID
  EMBEDDING_MODEL hub id the functions load (a folder path: nothing to download)
  EMBEDDING_DTYPE fp32 (default) or a quantised dtype transformers.js knows
  EMBEDDING_REVISION  branch, tag or commit of the embedding repo
  HF_ENDPOINT     another hub or a mirror (huggingface_hub reads it); empty: the public hub
  MODELS_ROOT     volume mount point (default /models)
"""
import os
import subprocess
import sys

MODELS_ROOT = os.environ.get("MODELS_ROOT", "/models")
EMBEDDINGS_DIR = os.path.join(MODELS_ROOT, "embeddings")

# Keep in step with lib/embeddings/model-location.ts: the sentence-transformers repo has only
# the fp32 ONNX export under transformers.js's names; other dtypes come from Xenova's
# conversion of the same weights.
QUANTISED_ALIASES = {"sentence-transformers/all-MiniLM-L6-v2": "Xenova/all-MiniLM-L6-v2"}

# transformers.js's file name for each dtype (onnx/model<suffix>.onnx).
DTYPE_SUFFIXES = {
    "fp32": "", "fp16": "_fp16", "q8": "_quantized", "int8": "_int8",
    "uint8": "_uint8", "q4": "_q4", "bnb4": "_bnb4", "q4f16": "_q4f16",
}
REQUIRED_EMBEDDING_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"]
# Read when present (the model's real window); not every repo has it.
OPTIONAL_EMBEDDING_FILES = ["sentence_bert_config.json"]

HUGGINGFACE_HUB = "huggingface_hub[hf_xet]>=0.30,<2"


def setting(name, default=None):
    value = os.environ.get(name, "").strip()
    return value or default


def embedding_plan():
    """(repo, folder, files) for the embedding model, or None for a local folder."""
    model = setting("EMBEDDING_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
    dtype = setting("EMBEDDING_DTYPE", "fp32")
    if model.startswith((".", "/")) or model.count("/") > 1:
        print(f"llm_init: EMBEDDING_MODEL={model} is a folder; nothing to download for it")
        return None
    if dtype not in DTYPE_SUFFIXES:
        sys.exit(f"llm_init: EMBEDDING_DTYPE={dtype} is not one of {', '.join(DTYPE_SUFFIXES)}")
    repo = model if dtype == "fp32" else QUANTISED_ALIASES.get(model, model)
    files = REQUIRED_EMBEDDING_FILES + [f"onnx/model{DTYPE_SUFFIXES[dtype]}.onnx"]
    # Same layout as transformers.js's cache: <MODELS_DIR>/<org>/<name>/...
    return repo, os.path.join(EMBEDDINGS_DIR, repo), files


def missing(folder, files):
    return [name for name in files if not os.path.isfile(os.path.join(folder, name))]


def main():
    gguf_repo = setting("HF_REPO_ID")
    gguf_file = setting("HF_FILENAME")
    if not gguf_repo or not gguf_file:
        sys.exit("llm_init: HF_REPO_ID and HF_FILENAME must be set (see .env.prod)")
    gguf_missing = missing(MODELS_ROOT, [gguf_file])
    embedding = embedding_plan()
    embedding_missing = missing(embedding[1], embedding[2]) if embedding else []

    if not gguf_missing and not embedding_missing:
        print("llm_init: every model file is present; nothing to do")
        return

    # Compose passes HF_ENDPOINT through even when it is empty; huggingface_hub would take an
    # empty value as the hub's address instead of its default.
    if not setting("HF_ENDPOINT"):
        os.environ.pop("HF_ENDPOINT", None)
    else:
        print(f"llm_init: hub at {setting('HF_ENDPOINT')}")
    # Installed only when there is something to fetch, so a warm start needs no network.
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--quiet",
                    "--disable-pip-version-check", "--root-user-action=ignore", HUGGINGFACE_HUB], check=True)
    from huggingface_hub import hf_hub_download
    try:
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError:  # huggingface_hub before 0.23
        from huggingface_hub.utils import EntryNotFoundError

    token = setting("HF_TOKEN")
    if gguf_missing:
        print(f"llm_init: downloading {gguf_repo}/{gguf_file} (several GB)")
        # local_dir downloads into a .cache folder inside it and moves the file into place
        # when complete, so llama-server never sees a partial GGUF.
        hf_hub_download(repo_id=gguf_repo, filename=gguf_file, revision=setting("HF_REVISION", "main"),
                        local_dir=MODELS_ROOT, token=token)
    if embedding_missing:
        repo, folder, files = embedding
        revision = setting("EMBEDDING_REVISION", "main")
        print(f"llm_init: downloading {repo} into {folder}")
        for name in files:
            hf_hub_download(repo_id=repo, filename=name, revision=revision, local_dir=folder, token=token)
        for name in OPTIONAL_EMBEDDING_FILES:
            try:
                hf_hub_download(repo_id=repo, filename=name, revision=revision, local_dir=folder, token=token)
            except EntryNotFoundError:
                print(f"llm_init: {repo} has no {name}; the model's known window is used")
    print("llm_init: done")


if __name__ == "__main__":
    main()
