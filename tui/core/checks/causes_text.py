"""The words of a cause: a finding's summary shortened to its point, and a plain-language hint
where the numbers support one ("looks like cents", a zero-padded id's shape). Aggregates only."""

from __future__ import annotations

import re

from tui.core.checks.findings import Finding

_FILE = re.compile(r"\(([^()]+\.(?:jsonl|json|csv|parquet|txt|tsv))\)")


def headline(finding: Finding) -> str:
    """The summary without its trailing '(what was compared)', naming the delivered file instead."""
    text = finding.summary
    compared = str(finding.evidence.get("compared") or "")
    if not compared or compared not in text:
        return text
    if text.endswith(f"({compared})"):
        text = text[: -len(compared) - 2].rstrip()
    else:
        text = text.replace(f", {compared}", "").replace(f" ({compared})", "")
    file = _FILE.search(compared)
    return text + (f" in {file.group(1)}" if file else "")


def hint(kind: str, root: Finding, symptoms: list[Finding]) -> str:
    parts = [p for p in (_cents(root), _padding(root), _fan_out(kind, symptoms)) if p]
    return "; ".join(parts)


def _cents(finding: Finding) -> str:
    """Amounts about x100 against the baseline: all of them at the same quantiles, or a share sent
    as whole numbers (then the mean's rise over that share tells the factor)."""
    ev = finding.evidence
    if finding.check != "drift.distribution":
        return ""
    q50, ref50 = ev.get("q50"), ev.get("reference_q50")
    if _num(q50) and _num(ref50) and ref50 > 0 and 50 <= q50 / ref50 <= 200:
        return f"about x{q50 / ref50:.0f} against the baseline at the same quantiles: looks like cents"
    whole, ref_whole, mean, ref_mean = (ev.get(k) for k in ("whole_share", "reference_whole_share", "mean", "reference_mean"))
    if not all(_num(v) for v in (whole, ref_whole, mean, ref_mean)) or ref_mean <= 0:
        return ""
    excess = whole - ref_whole
    if excess < 0.02:
        return ""
    factor = 1 + (mean / ref_mean - 1) / excess
    if 50 <= factor <= 200:
        return f"about x{factor:.0f} in {excess:.0%} of rows, sent as whole numbers: looks like cents"
    return ""


def _padding(finding: Finding) -> str:
    ev = finding.evidence
    if not ev.get("shape"):
        return ""
    return f"{ev.get('zero_padded_share', 0):.0%} sent zero-padded (shape {ev['shape']})"


def _fan_out(kind: str, symptoms: list[Finding]) -> str:
    if kind not in ("duplicate_keys", "fan_out"):
        return ""
    fan = next((f for f in symptoms if f.check == "keys.fan_out"), None)
    if fan is None or not _num(fan.evidence.get("rows_per_key")):
        return ""
    return f"so the join in {fan.object} multiplies rows by {fan.evidence['rows_per_key']:.3f}"


def _num(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
