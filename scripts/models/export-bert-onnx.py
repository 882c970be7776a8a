"""Writes a BERT encoder (BertModel, as sentence-transformers' Transformer module runs it) from
its `model.safetensors` and `config.json` as an fp32 ONNX graph in transformers.js' layout:
inputs `input_ids`, `attention_mask`, `token_type_ids` (int64, [batch, sequence]), output
`last_hidden_state` ([batch, sequence, hidden]).

Built node by node with `onnx.helper` instead of torch.onnx: PyTorch's Linux wheels pull
~3 GB of CUDA wheels just to import, more than the whole models lane may cost in CI.
The graph computes what transformers' BertModel computes in eval mode (absolute positions,
erf GELU, post-layer-norm blocks, padding masked with the float32 minimum before softmax);
scripts/models/reference-embeddings.py recomputes it in float64 numpy and the `models` lane
compares the service's vectors with it.

    python export-bert-onnx.py --model-folder DIR --output DIR/onnx/model.onnx
"""

import argparse
import json
import math
from pathlib import Path

import numpy
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

# LayerNormalization is an ONNX operator from opset 17 on; onnxruntime-node runs it natively.
OPSET = 17
SUPPORTED_ACTIVATION = "gelu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-folder", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    arguments = parser.parse_args()
    config = json.loads((arguments.model_folder / "config.json").read_text())
    weights = load_file(str(arguments.model_folder / "model.safetensors"))
    model = build_model(config, weights)
    onnx.checker.check_model(model)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = arguments.output.with_suffix(".partial")
    onnx.save_model(model, str(temporary))
    temporary.replace(arguments.output)
    print(f"wrote {arguments.output} ({arguments.output.stat().st_size} bytes)")


class GraphBuilder:
    """Collects nodes and initializers; every value gets a unique name from `fresh`."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    def constant(self, name: str, value: numpy.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, operator: str, inputs: list[str], stem: str, **attributes) -> str:
        output = self.fresh(stem)
        self.nodes.append(helper.make_node(operator, inputs, [output], name=output, **attributes))
        return output

    def linear(self, value: str, weights: dict, prefix: str) -> str:
        # torch's Linear stores [out, in]; MatMul wants [in, out].
        weight = self.constant(f"{prefix}.weight_t", numpy.ascontiguousarray(weights[f"{prefix}.weight"].T.astype(numpy.float32)))
        bias = self.constant(f"{prefix}.bias", weights[f"{prefix}.bias"].astype(numpy.float32))
        return self.node("Add", [self.node("MatMul", [value, weight], "matmul"), bias], "linear")

    def layer_norm(self, value: str, weights: dict, prefix: str, epsilon: float) -> str:
        scale = self.constant(f"{prefix}.weight", weights[f"{prefix}.weight"].astype(numpy.float32))
        bias = self.constant(f"{prefix}.bias", weights[f"{prefix}.bias"].astype(numpy.float32))
        return self.node("LayerNormalization", [value, scale, bias], "layer_norm", axis=-1, epsilon=epsilon)


def build_model(config: dict, weights: dict) -> onnx.ModelProto:
    if config.get("model_type") != "bert":
        raise SystemExit(f"only BERT encoders are supported, not model_type={config.get('model_type')!r}")
    if config.get("hidden_act") != SUPPORTED_ACTIVATION or config.get("position_embedding_type", "absolute") != "absolute":
        raise SystemExit("only erf-GELU BERT with absolute positions is supported")
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_size = hidden // heads
    epsilon = float(config["layer_norm_eps"])
    graph = GraphBuilder()

    # Embeddings: word + absolute position + token type, then LayerNorm.
    words = graph.node("Gather", [graph.constant("embeddings.word_embeddings.weight", weights["embeddings.word_embeddings.weight"]), "input_ids"], "words", axis=0)
    shape = graph.node("Shape", ["input_ids"], "input_shape")
    length = graph.node("Gather", [shape, graph.constant("index_one", numpy.array(1, dtype=numpy.int64))], "sequence_length", axis=0)
    positions = graph.node("Range", [graph.constant("zero", numpy.array(0, dtype=numpy.int64)), length, graph.constant("one", numpy.array(1, dtype=numpy.int64))], "position_ids")
    position_vectors = graph.node("Gather", [graph.constant("embeddings.position_embeddings.weight", weights["embeddings.position_embeddings.weight"]), positions], "positions", axis=0)
    types = graph.node("Gather", [graph.constant("embeddings.token_type_embeddings.weight", weights["embeddings.token_type_embeddings.weight"]), "token_type_ids"], "types", axis=0)
    summed = graph.node("Add", [graph.node("Add", [words, position_vectors], "word_position"), types], "embedding_sum")
    state = graph.layer_norm(summed, weights, "embeddings.LayerNorm", epsilon)

    # Additive mask [batch, 1, 1, sequence]: 0 for tokens, float32's minimum for padding (as transformers does).
    mask_float = graph.node("Cast", ["attention_mask"], "mask_float", to=TensorProto.FLOAT)
    inverted = graph.node("Sub", [graph.constant("one_float", numpy.array(1.0, dtype=numpy.float32)), mask_float], "mask_inverted")
    additive = graph.node("Mul", [inverted, graph.constant("float_min", numpy.array(numpy.finfo(numpy.float32).min, dtype=numpy.float32))], "mask_additive")
    mask = graph.node("Unsqueeze", [additive, graph.constant("mask_axes", numpy.array([1, 2], dtype=numpy.int64))], "attention_bias")

    split_heads = graph.constant("split_heads_shape", numpy.array([0, 0, heads, head_size], dtype=numpy.int64))
    merge_heads = graph.constant("merge_heads_shape", numpy.array([0, 0, hidden], dtype=numpy.int64))
    scale = graph.constant("attention_scale", numpy.array(1.0 / math.sqrt(head_size), dtype=numpy.float32))
    sqrt_half = graph.constant("sqrt_half", numpy.array(1.0 / math.sqrt(2.0), dtype=numpy.float32))
    half = graph.constant("half", numpy.array(0.5, dtype=numpy.float32))

    def heads_first(value: str) -> str:
        return graph.node("Transpose", [graph.node("Reshape", [value, split_heads], "split")], "heads_first", perm=[0, 2, 1, 3])

    for layer in range(int(config["num_hidden_layers"])):
        prefix = f"encoder.layer.{layer}"
        query = heads_first(graph.linear(state, weights, f"{prefix}.attention.self.query"))
        key = graph.node("Transpose", [graph.node("Reshape", [graph.linear(state, weights, f"{prefix}.attention.self.key"), split_heads], "split")], "key_t", perm=[0, 2, 3, 1])
        value = heads_first(graph.linear(state, weights, f"{prefix}.attention.self.value"))
        scores = graph.node("Add", [graph.node("Mul", [graph.node("MatMul", [query, key], "scores_raw"), scale], "scores_scaled"), mask], "scores")
        probabilities = graph.node("Softmax", [scores], "probabilities", axis=-1)
        context = graph.node("MatMul", [probabilities, value], "context")
        merged = graph.node("Reshape", [graph.node("Transpose", [context], "context_t", perm=[0, 2, 1, 3]), merge_heads], "context_merged")
        attended = graph.linear(merged, weights, f"{prefix}.attention.output.dense")
        state = graph.layer_norm(graph.node("Add", [attended, state], "attention_residual"), weights, f"{prefix}.attention.output.LayerNorm", epsilon)
        inner = graph.linear(state, weights, f"{prefix}.intermediate.dense")
        # GELU(x) = x * 0.5 * (1 + erf(x / sqrt(2))), the exact form BERT's "gelu" means.
        erf = graph.node("Erf", [graph.node("Mul", [inner, sqrt_half], "gelu_scaled")], "gelu_erf")
        gate = graph.node("Mul", [graph.node("Add", [erf, graph.constant(f"one_float_{layer}", numpy.array(1.0, dtype=numpy.float32))], "gelu_plus_one"), half], "gelu_gate")
        activated = graph.node("Mul", [inner, gate], "gelu")
        output = graph.linear(activated, weights, f"{prefix}.output.dense")
        state = graph.layer_norm(graph.node("Add", [output, state], "output_residual"), weights, f"{prefix}.output.LayerNorm", epsilon)

    graph.nodes.append(helper.make_node("Identity", [state], ["last_hidden_state"], name="last_hidden_state"))
    dynamic = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, dynamic) for name in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*dynamic, hidden])]
    model = helper.make_model(
        helper.make_graph(graph.nodes, "bert_encoder", inputs, outputs, graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="local-rag scripts/models/export-bert-onnx.py",
    )
    # onnxruntime-node in transformers.js reads IR version 8 and later.
    model.ir_version = 8
    return model


if __name__ == "__main__":
    main()
