"""Reference sentence embeddings, computed the way sentence-transformers computes them for a
model folder, in float64 numpy: the folder's `modules.json` must be Transformer -> Pooling
(mean) -> Normalize; texts are tokenized by Hugging Face `tokenizers` from the folder's
`tokenizer.json` (the library under transformers' fast tokenizer, which sentence-transformers
uses), truncated to `max_seq_length` from `sentence_bert_config.json` with [CLS] and [SEP]
kept; BertModel's forward pass runs on the `model.safetensors` weights.

PyTorch is not used (its Linux wheels need ~3 GB of CUDA wheels to import). This is an
independent second implementation of what the ONNX graph computes, beside the service's
tokenizer (transformers.js) and runtime (onnxruntime-node).

    python reference-embeddings.py --model-folder DIR < texts.json > vectors.json
stdin: a JSON array of strings; stdout: {"vectors": [[...]], "tokenCounts": [...]}.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy
from safetensors.numpy import load_file
from tokenizers import Tokenizer

EXPECTED_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-folder", required=True, type=Path)
    arguments = parser.parse_args()
    folder = arguments.model_folder
    modules = [module["type"] for module in json.loads((folder / "modules.json").read_text())]
    if modules != EXPECTED_MODULES:
        raise SystemExit(f"{folder}: modules.json is {modules}, only {EXPECTED_MODULES} is reproduced here")
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or any(pooling.get(mode) for mode in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")):
        raise SystemExit(f"{folder}: only mean pooling is reproduced here")
    window = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    config = json.loads((folder / "config.json").read_text())
    weights = {name: value.astype(numpy.float64) for name, value in load_file(str(folder / "model.safetensors")).items() if value.dtype != numpy.int64}

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    # tokenizer.json carries a training-time padding (128) and truncation (128); sentence-
    # transformers resets both on every call and truncates at max_seq_length instead.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=window)

    texts = json.load(sys.stdin)
    vectors, token_counts = [], []
    for text in texts:
        encoding = tokenizer.encode(text)
        ids = numpy.array(encoding.ids, dtype=numpy.int64)
        hidden = bert_forward(ids, numpy.array(encoding.type_ids, dtype=numpy.int64), weights, config)
        mean = hidden.mean(axis=0)
        vectors.append((mean / numpy.linalg.norm(mean)).tolist())
        token_counts.append(len(ids))
    json.dump({"vectors": vectors, "tokenCounts": token_counts}, sys.stdout)


def layer_norm(value: numpy.ndarray, weights: dict, prefix: str, epsilon: float) -> numpy.ndarray:
    mean = value.mean(axis=-1, keepdims=True)
    variance = ((value - mean) ** 2).mean(axis=-1, keepdims=True)
    return (value - mean) / numpy.sqrt(variance + epsilon) * weights[f"{prefix}.weight"] + weights[f"{prefix}.bias"]


def linear(value: numpy.ndarray, weights: dict, prefix: str) -> numpy.ndarray:
    # torch's Linear stores [out, in]; a contiguous [in, out] copy, made once, multiplies faster.
    transposed = weights.setdefault(f"{prefix}.weight_t", numpy.ascontiguousarray(weights[f"{prefix}.weight"].T))
    return value @ transposed + weights[f"{prefix}.bias"]


def gelu(value: numpy.ndarray) -> numpy.ndarray:
    # BERT's "gelu" is the exact erf form; numpy has no erf, so use math.erf element-wise.
    from math import erf, sqrt

    return value * 0.5 * (1.0 + numpy.vectorize(erf)(value / sqrt(2.0)))


def bert_forward(ids: numpy.ndarray, type_ids: numpy.ndarray, weights: dict, config: dict) -> numpy.ndarray:
    """BertModel's last hidden state for ONE unpadded sequence ([length, hidden])."""
    epsilon = float(config["layer_norm_eps"])
    heads = int(config["num_attention_heads"])
    length = len(ids)
    state = weights["embeddings.word_embeddings.weight"][ids] + weights["embeddings.position_embeddings.weight"][:length] + weights["embeddings.token_type_embeddings.weight"][type_ids]
    state = layer_norm(state, weights, "embeddings.LayerNorm", epsilon)
    head_size = state.shape[1] // heads
    for layer in range(int(config["num_hidden_layers"])):
        prefix = f"encoder.layer.{layer}"
        split = lambda value: value.reshape(length, heads, head_size).transpose(1, 0, 2)  # noqa: E731
        query = split(linear(state, weights, f"{prefix}.attention.self.query"))
        key = split(linear(state, weights, f"{prefix}.attention.self.key"))
        value = split(linear(state, weights, f"{prefix}.attention.self.value"))
        scores = query @ key.transpose(0, 2, 1) / numpy.sqrt(head_size)
        scores = numpy.exp(scores - scores.max(axis=-1, keepdims=True))
        probabilities = scores / scores.sum(axis=-1, keepdims=True)
        context = (probabilities @ value).transpose(1, 0, 2).reshape(length, heads * head_size)
        state = layer_norm(linear(context, weights, f"{prefix}.attention.output.dense") + state, weights, f"{prefix}.attention.output.LayerNorm", epsilon)
        inner = gelu(linear(state, weights, f"{prefix}.intermediate.dense"))
        state = layer_norm(linear(inner, weights, f"{prefix}.output.dense") + state, weights, f"{prefix}.output.LayerNorm", epsilon)
    return state


if __name__ == "__main__":
    main()
