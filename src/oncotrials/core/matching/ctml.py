"""Import MatchMiner CTML trials into match levels with oncotrials criteria.

The meaning follows the current DFCI engine (``dfci/matchengine-V2`` with its DFCI
configuration); where MatchMiner versions differ, the DFCI V2 choice is taken (see
``docs/formats/criteria.md``, "CTML import"):

* every ``match`` list (trial root, ``step``, ``arm``, ``dose_level``) is an independent match
  level; a ``match`` list's items are combined with ``and``;
* inside a ``genomic`` or ``clinical`` leaf all keys are combined with ``and`` on the same row;
* a ``!`` prefix negates: in a genomic leaf any negated key turns the whole leaf into an
  exclusion (``not`` of the positive leaf: "no such alteration"); in a clinical leaf each
  negated key is its own exclusion;
* ``wildcard_protein_change`` is one residue after the codon (V2 regex, not V1's prefix);
* ``age_numerical`` ``>18`` / ``<18`` are strict (V2; CTIMS treats them as ``>=``/``<=``);
* ``Any Variation`` is mutation or copy-number variation, not structural variation;
* ``gender`` is case-sensitive in DFCI: only ``Male`` and ``Female`` are accepted;
* ``her2_status``, ``er_status``, ``pr_status``, ``disease_status`` and ``display_name`` are
  ignored, as in the DFCI configuration; keys the engine would not understand are errors;
* the trial is open when ``_summary.status[0].value`` is "open to accrual" (any case);
  ``arm_suspended: Y`` / ``level_suspended: Y`` close that level and the levels below it; a step
  whose arms are all suspended is closed.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.matching.criteria import (
    And,
    Category,
    Genomic,
    Node,
    Not,
    Numeric,
    Or,
    Range,
    Validator,
)
from oncotrials.core.matching.oncotree import LIQUID, SOLID, OncoTreeLike
from oncotrials.core.matching.records import ANY_GENE, INTERGENIC
from oncotrials.core.matching.trials import Level, Trial

_CATEGORY = {
    "Mutation": frozenset({"mutation"}),
    "Copy Number Variation": frozenset({"cnv"}),
    "Structural Variation": frozenset({"sv"}),
    "Any Variation": frozenset({"mutation", "cnv"}),
}
_CN_CALL = {
    "High Amplification": "amplification",
    "Low Amplification": "gain",
    "Homozygous Deletion": "homozygous_deletion",
    "Heterozygous Deletion": "heterozygous_deletion",
}
_MSI = {
    "MMR-Deficient": "high",
    "MSI-H": "high",
    "MMR-Proficient": "stable",
    "MSI-L": "stable",
    "MSS": "stable",
}
_SIGNATURES = {
    "apobec_signature": "apobec",
    "pole_signature": "pole",
    "tobacco_signature": "tobacco",
    "temozolomide_signature": "temozolomide",
    "uva_signature": "uva",
}
_IGNORED = frozenset({"her2_status", "er_status", "pr_status", "disease_status", "display_name"})
_GENOMIC_KEYS = frozenset(
    {
        "hugo_symbol",
        "protein_change",
        "wildcard_protein_change",
        "variant_classification",
        "variant_category",
        "exon",
        "cnv_call",
        "wildtype",
        "mmr_status",
        "ms_status",
        "fusion_partner_hugo_symbol",
        *_SIGNATURES,
    }
)
_CLINICAL_KEYS = frozenset(
    {"age_numerical", "oncotree_primary_diagnosis", "gender", "tmb_numerical"}
)
_COMPARISON = re.compile(r"^\s*(>=|<=|>|<|=)?\s*([0-9]*\.?[0-9]+)\s*$")


def is_negated(value: Any) -> tuple[Any, bool]:
    """``'!this'`` -> ``('this', True)``; other values unchanged (as DFCI's ``is_negate``)."""
    if isinstance(value, str) and value.startswith("!"):
        return value[1:], True
    return value, False


class _Importer:
    def __init__(self, source: str, validator: Validator) -> None:
        self.source = source
        self.v = validator

    def fail(self, path: str, message: str, value: Any) -> ValidationError:
        return ValidationError(
            f"{self.source}: {path}: {message}; got {value!r}.", code="invalid_ctml", path=path
        )

    # -- match trees --------------------------------------------------------------------------

    def match_list(self, data: Any, path: str) -> Node:
        if not isinstance(data, list) or not data:
            raise self.fail(path, "a CTML 'match' is a non-empty list", data)
        nodes = [self.node(item, f"{path}[{i}]") for i, item in enumerate(data)]
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def node(self, data: Any, path: str) -> Node:
        if not isinstance(data, Mapping) or len(data) != 1:
            raise self.fail(
                path, "a match node is an object with one key: and, or, genomic or clinical", data
            )
        ((key, value),) = data.items()
        here = f"{path}.{key}"
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise self.fail(here, f"'{key}' takes a non-empty list", value)
            kids = tuple(self.node(c, f"{here}[{i}]") for i, c in enumerate(value))
            if len(kids) == 1:
                return kids[0]
            return And(kids) if key == "and" else Or(kids)
        if key == "genomic":
            return self.genomic(value, here)
        if key == "clinical":
            return self.clinical(value, here)
        raise self.fail(path, "unknown match node; expected and, or, genomic or clinical", key)

    # -- leaves ---------------------------------------------------------------------------------

    def genomic(self, data: Any, path: str) -> Node:
        if not isinstance(data, Mapping) or not data:
            raise self.fail(path, "a genomic leaf is a non-empty object", data)
        fields: dict[str, Any] = {}
        extra: list[Node] = []
        negated = False
        for key, raw in data.items():
            here = f"{path}.{key}"
            if key in _IGNORED:
                continue
            if key not in _GENOMIC_KEYS:
                raise self.fail(here, "unknown genomic key", key)
            value, neg = is_negated(raw)
            negated = negated or neg
            if key == "hugo_symbol":
                fields["gene"] = self.v.gene(value, self.source, here)
            elif key == "protein_change":
                fields["protein_change"] = self.text(value, here)
            elif key == "wildcard_protein_change":
                text = self.text(value, here)
                if not text.lower().startswith("p."):
                    text = "p." + text
                fields["wildcard_protein_change"] = text.upper()
            elif key == "variant_classification":
                fields["variant_classification"] = self.text(value, here)
            elif key == "variant_category":
                if value not in _CATEGORY:
                    raise self.fail(here, f"expected one of {', '.join(_CATEGORY)}", raw)
                fields["categories"] = _CATEGORY[value]
            elif key == "exon":
                fields["exon"] = self.integer(value, here)
            elif key == "cnv_call":
                if value not in _CN_CALL:
                    raise self.fail(here, f"expected one of {', '.join(_CN_CALL)}", raw)
                fields["cn_call"] = _CN_CALL[value]
            elif key == "fusion_partner_hugo_symbol":
                if value == "any_gene":
                    fields["fusion_partner"] = ANY_GENE
                elif value == "intergenic":
                    fields["fusion_partner"] = INTERGENIC
                else:
                    fields["fusion_partner"] = self.v.gene(value, self.source, here)
            elif key == "wildtype":
                if value is True or str(value).lower() == "true":
                    raise self.fail(
                        here,
                        "wild-type rows are not part of our genomic model; express 'no <gene> "
                        "alteration' as a negated leaf instead",
                        raw,
                    )
            elif key in ("mmr_status", "ms_status"):
                if value not in _MSI:
                    raise self.fail(here, f"expected one of {', '.join(_MSI)}", raw)
                extra.append(Category("msi", _MSI[value]))
            else:
                if value not in ("Yes", "No"):
                    raise self.fail(here, "a signature status is 'Yes' or 'No'", raw)
                sig: Node = Category("signature", _SIGNATURES[key])
                extra.append(sig if value == "Yes" else Not(sig))
        parts: list[Node] = []
        if fields:
            parts.append(Genomic(**fields))
        parts.extend(extra)
        if not parts:
            raise self.fail(path, "the genomic leaf has no key the engine matches on", dict(data))
        node: Node = parts[0] if len(parts) == 1 else And(tuple(parts))
        return Not(node) if negated else node

    def clinical(self, data: Any, path: str) -> Node:
        if not isinstance(data, Mapping) or not data:
            raise self.fail(path, "a clinical leaf is a non-empty object", data)
        parts: list[Node] = []
        for key, raw in data.items():
            here = f"{path}.{key}"
            if key in _IGNORED:
                continue
            if key not in _CLINICAL_KEYS:
                raise self.fail(here, "unknown clinical key", key)
            value, neg = is_negated(raw)
            node: Node
            if key == "oncotree_primary_diagnosis":
                codes = self.diagnosis(value, here)
                leaves = tuple(Category("diagnosis", c) for c in codes)
                node = leaves[0] if len(leaves) == 1 else Or(leaves)
            elif key == "gender":
                if value not in ("Male", "Female"):
                    raise self.fail(
                        here, "DFCI matches gender case-sensitively: write 'Male' or 'Female'", raw
                    )
                node = Category("sex", value.lower())
            elif key == "age_numerical":
                node = Numeric("age", self.comparison(value, here))
            else:
                node = Numeric("tmb", self.comparison(value, here))
            parts.append(Not(node) if neg else node)
        if not parts:
            raise self.fail(path, "the clinical leaf has no key the engine matches on", dict(data))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    # -- values -------------------------------------------------------------------------------

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "expected a non-empty string", value)
        return value.strip()

    def integer(self, value: Any, path: str) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise self.fail(path, "expected an integer", value) from None
        if number < 1:
            raise self.fail(path, "an exon is a positive integer", value)
        return number

    def comparison(self, value: Any, path: str) -> Range:
        m = _COMPARISON.match(str(value))
        if m is None:
            raise self.fail(path, "expected a comparison such as '>=18' or '<.5'", value)
        op, number = m.group(1) or "=", float(m.group(2))
        if op == "=":
            return Range(gte=number, lte=number)
        key = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}[op]
        return Range(**{key: number})

    def diagnosis(self, value: Any, path: str) -> tuple[str, ...]:
        """Codes named by a CTML diagnosis (a name, or a code; a repeated name gives all)."""
        if value in ("_SOLID_", "_LIQUID_"):
            return (SOLID if value == "_SOLID_" else LIQUID,)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "expected an OncoTree name or code", value)
        tree = self.v.oncotree
        if tree is None:
            return (self.v.diagnosis(value, self.source, path),)
        codes = tree.codes_for_name(value)
        if not codes and value in set(tree.codes()):
            codes = (value,)
        if not codes:
            raise self.fail(path, "unknown OncoTree name (and not an OncoTree code)", value)
        return codes


def _yes(value: Any) -> bool:
    return str(value).strip().upper() in ("Y", "YES", "TRUE")


def trial_from_ctml(
    data: Any,
    *,
    source: str,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
) -> Trial:
    """Translate one CTML trial (already parsed from YAML/JSON) into a :class:`Trial`.

    All or nothing: any invalid part raises a :class:`ValidationError` naming ``source``, the
    path inside the document and the value, and no trial is returned.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(f"{source}: a CTML trial is an object; got {type(data).__name__}.")
    imp = _Importer(source, Validator(oncotree, genes))
    protocol = data.get("protocol_no")
    if not isinstance(protocol, str | int) or isinstance(protocol, bool) or not str(protocol):
        raise imp.fail("protocol_no", "a CTML trial needs its protocol_no", protocol)
    trial_id = str(protocol)
    status = ""
    summary = data.get("_summary")
    if isinstance(summary, Mapping):
        items = summary.get("status")
        if isinstance(items, list) and items and isinstance(items[0], Mapping):
            status = str(items[0].get("value", ""))
    trial_open = status.strip().lower() == "open to accrual"
    levels: list[Level] = []
    if "match" in data:
        levels.append(
            Level(
                trial_id,
                "trial",
                "",
                trial_id,
                trial_open,
                None,
                imp.match_list(data["match"], "match"),
            )
        )
    treatment = data.get("treatment_list") or {}
    if not isinstance(treatment, Mapping):
        raise imp.fail("treatment_list", "expected an object with 'step'", treatment)
    steps = treatment.get("step") or []
    if not isinstance(steps, list):
        raise imp.fail("treatment_list.step", "expected a list", steps)
    for s, step in enumerate(steps):
        spath = f"treatment_list.step[{s}]"
        if not isinstance(step, Mapping):
            raise imp.fail(spath, "expected an object", step)
        arms = step.get("arm") or []
        if not isinstance(arms, list):
            raise imp.fail(f"{spath}.arm", "expected a list", arms)
        step_code = str(step.get("step_code") or step.get("step_internal_id") or s)
        all_suspended = bool(arms) and all(
            isinstance(a, Mapping) and _yes(a.get("arm_suspended", "N")) for a in arms
        )
        step_open = trial_open and not all_suspended
        if "match" in step:
            levels.append(
                Level(
                    trial_id,
                    "step",
                    f"step:{step_code}",
                    step_code,
                    step_open,
                    None,
                    imp.match_list(step["match"], f"{spath}.match"),
                )
            )
        for a, arm in enumerate(arms):
            apath = f"{spath}.arm[{a}]"
            if not isinstance(arm, Mapping):
                raise imp.fail(apath, "expected an object", arm)
            code = str(arm.get("arm_code") or arm.get("arm_internal_id") or a).replace("/", "_")
            arm_open = step_open and not _yes(arm.get("arm_suspended", "N"))
            if "match" in arm:
                levels.append(
                    Level(
                        trial_id,
                        "arm",
                        code,
                        str(arm.get("arm_description") or code),
                        arm_open,
                        None,
                        imp.match_list(arm["match"], f"{apath}.match"),
                    )
                )
            doses = arm.get("dose_level") or []
            if not isinstance(doses, list):
                raise imp.fail(f"{apath}.dose_level", "expected a list", doses)
            for d, dose in enumerate(doses):
                dpath = f"{apath}.dose_level[{d}]"
                if not isinstance(dose, Mapping):
                    raise imp.fail(dpath, "expected an object", dose)
                if "match" not in dose:
                    continue
                dcode = str(dose.get("level_code") or dose.get("level_internal_id") or d)
                levels.append(
                    Level(
                        trial_id,
                        "dose_level",
                        f"{code}/{dcode.replace('/', '_')}",
                        dcode,
                        arm_open and not _yes(dose.get("level_suspended", "N")),
                        None,
                        imp.match_list(dose["match"], f"{dpath}.match"),
                    )
                )
    if not levels:
        raise imp.fail("treatment_list", "the trial has no 'match' at any level", trial_id)
    paths = [lvl.path for lvl in levels]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise imp.fail(
            "treatment_list", "arm or dose-level codes repeat within the trial", dupes[0]
        )
    title = str(data.get("short_title") or data.get("long_title") or "")
    return Trial(trial_id, title, trial_open, tuple(levels), source, format="ctml")
