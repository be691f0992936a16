"""The model card of a saved model directory: ``README.md`` in the Hugging Face convention (YAML front matter with
``library_name``, ``tags``, ``datasets``, ``license``, ``metrics`` and a ``model-index`` of the test scores, then
Markdown: model, encoder, data and split sizes, labels, entity types, test scores, how to rebuild it, seed, code
version, data license). Written by :func:`relx.training.run.run_experiment` next to config.json; loading ignores it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

CARD_FILE = "README.md"

# scheme -> (metric key, readable name) reported first, in this order
HEADLINE: dict[str, tuple[tuple[str, str], ...]] = {
    "joint": (
        ("ner_micro_f1", "NER micro-F1 (span + entity type)"),
        ("re_strict_micro_f1", "RE strict micro-F1 (spans + entity types + relation)"),
        ("re_boundaries_micro_f1", "RE boundaries micro-F1 (spans + relation)"),
    ),
    "semeval": (("official_macro_f1", "official SemEval macro-F1 (9+1-way, directional)"), ("micro_f1", "micro-F1 (positives)")),
    "tacred": (("micro_f1", "micro-F1 (positives)"), ("micro_p", "micro precision"), ("micro_r", "micro recall")),
    "relations": (("micro_f1", "relation micro-F1 (exact spans)"), ("micro_p", "micro precision"), ("micro_r", "micro recall")),
}
TASK_TAGS = {"joint": "joint-entity-relation-extraction", "all_pairs": "relation-triple-extraction", "pair": "relation-classification"}
LICENSES = (  # PROVENANCE wording -> Hugging Face license identifier
    (re.compile(r"CC BY-NC-SA 4\.0"), "cc-by-nc-sa-4.0"),
    (re.compile(r"CC BY-SA 4\.0"), "cc-by-sa-4.0"),
    (re.compile(r"CC BY 4\.0"), "cc-by-4.0"),
    (re.compile(r"CC BY 3\.0"), "cc-by-3.0"),
)


def data_license(data_file: str | Path | None) -> tuple[str, str]:
    """(license identifier, the License paragraph) from the ``PROVENANCE.md`` beside a data file;
    ``("other", ...)`` when the text names no known license, ``("unknown", "")`` without a PROVENANCE.md."""
    if not data_file:
        return "unknown", ""
    path = Path(data_file).parent / "PROVENANCE.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "unknown", ""
    match = re.search(r"^## License\s*\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    paragraph = " ".join(match.group(1).split()) if match else ""
    ident = next((name for pattern, name in LICENSES if pattern.search(paragraph)), "other")
    return ident, paragraph


def code_version() -> str:
    """``relx <version>`` plus the git commit of the source checkout when there is one."""
    from relx.cli import package_version

    version = f"relx {package_version()}"
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return version
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return version
    commit = out.stdout.strip()
    return f"{version}, git commit {commit}" if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else version


def _pct(value: Any) -> str:
    return f"{100 * value:.2f}" if isinstance(value, (int, float)) else "-"


def _encoder(config: dict) -> str | None:
    enc = config.get("encoder")
    if enc in ("default", "minilm", "all-MiniLM-L6-v2"):
        return "MiniLM-L6-H384 (uncased, bundled with relx)"
    return None if enc is None else str(enc)


def headline(metrics: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(key, readable name, value) of the test scores a card reports for ``metrics["scheme"]``."""
    spec = HEADLINE.get(metrics.get("scheme", ""), ())
    rows = [(k, name, float(metrics[k])) for k, name in spec if isinstance(metrics.get(k), (int, float))]
    return rows or [(k, k, float(v)) for k, v in metrics.items() if k.endswith("f1") and isinstance(v, (int, float))]


def _dataset(data: dict) -> str:
    train = data.get("train") or ""
    return Path(train).parent.name or "unknown"


def _relpath(value: Any) -> Any:
    """Data paths under the current directory written relative to it (a card must not name a temp folder)."""
    if isinstance(value, str) and value.startswith("/"):
        try:
            return str(Path(value).relative_to(Path.cwd()))
        except ValueError:
            return value
    return value


def front_matter(summary: dict[str, Any], kind: str, name: str, license_id: str) -> dict[str, Any]:
    """The YAML header: library, tags, dataset, license and a model-index of the test scores."""
    data = summary.get("data", {})
    dataset = _dataset(data)
    scores = headline(summary.get("test") or {})
    meta: dict[str, Any] = {
        "library_name": "relx",
        "tags": ["relx", "relation-extraction", TASK_TAGS.get(kind, kind), summary.get("model", "")],
        "datasets": [dataset],
        "license": license_id,
        "metrics": sorted({"f1" if k.endswith("f1") else k for k, _, _ in scores}),
    }
    if license_id == "other":
        meta["license_name"] = "research-use-only"
    if scores:
        meta["model-index"] = [
            {
                "name": name,
                "results": [
                    {
                        "task": {"type": "relation-extraction", "name": TASK_TAGS.get(kind, kind)},
                        "dataset": {"name": dataset, "type": dataset, "split": "test"},
                        "metrics": [{"type": k, "name": label, "value": round(100 * v, 2)} for k, label, v in scores],
                    }
                ],
            }
        ]
    return meta


def render_card(
    summary: dict[str, Any],
    labels: list[str],
    entity_types: dict[str, int] | None,
    kind: str,
    raw_config: dict[str, Any],
    test_docs: int | None = None,
    origin: str | None = None,
    name: str | None = None,
    version: str | None = None,
) -> str:
    """The README.md text of a saved model. ``summary`` is the run's result.json dict, ``labels`` the relation labels
    (negative excluded), ``entity_types`` {type: training count}, ``kind`` the model kind (pair / all_pairs / joint),
    ``raw_config`` the run config (bases merged), ``origin`` the command that rebuilds it, ``version`` the code
    version (default: :func:`code_version`)."""
    data = summary.get("data", {})
    trainer = summary.get("trainer", {})
    config = summary.get("config", {})
    dataset = _dataset(data)
    name = name or f"{dataset}-{summary.get('model', 'model')}"
    license_id, license_text = data_license(data.get("train"))
    out = ["---", yaml.safe_dump(front_matter(summary, kind, name, license_id), sort_keys=False, allow_unicode=True).strip(), "---", ""]
    out += [f"# {name}", "", f"A relx `{summary.get('model')}` model ({kind} model) trained on `{dataset}`.", ""]
    enc = _encoder(config)
    out += ["## Model", "", f"- type: `{summary.get('model')}` ({kind})"] + ([f"- encoder: {enc}"] if enc else [])
    out += [f"- seed: {trainer.get('seed')}", f"- epochs: {trainer.get('epochs')} (dev selects by `{trainer.get('metric')}`)"]
    out += [f"- code: {version or code_version()}", ""]
    splits = [f"train {summary.get('train_docs')} ({_relpath(data.get('train'))})"]
    if summary.get("dev_docs"):
        where = _relpath(data.get("dev")) or f"{data.get('dev_holdout')} training documents held out"
        splits.append(f"dev {summary.get('dev_docs')} ({where})")
    if test_docs is not None:
        splits.append(f"test {test_docs} ({_relpath(data.get('test'))})")
    out += ["## Data", "", f"- dataset: `{dataset}`", f"- documents: {', '.join(splits)}"]
    out += [f"- relation labels ({len(labels)}): {', '.join(f'`{lab}`' for lab in labels)}"]
    if entity_types:
        out.append(f"- entity types ({len(entity_types)}): {', '.join(f'`{t}`' for t in entity_types)}")
    out.append("")
    scores = headline(summary.get("test") or {})
    if scores:
        test_name = f"`{_relpath(data.get('test'))}`" + (f", {test_docs} documents" if test_docs is not None else "")
        out += ["## Test scores", "", f"On the test set {test_name} (scheme `{summary['test'].get('scheme')}`):", ""]
        out += ["| metric | % |", "|---|---|"] + [f"| {label} | {_pct(v)} |" for _, label, v in scores] + [""]
    out += ["## Rebuild", ""]
    if origin:
        out += ["```bash", origin, "```", ""]
    cfg = {k: v for k, v in raw_config.items() if k != "base"}
    cfg["data"] = {k: _relpath(v) for k, v in (cfg.get("data") or {}).items()}
    out += ["The run config (bases merged; `relx train --config THIS.yaml --out RUN` trains it again):", ""]
    out += ["```yaml", yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True).strip(), "```", ""]
    out += ["## Data license", "", license_text or "See the dataset's own terms.", ""]
    return "\n".join(out)
