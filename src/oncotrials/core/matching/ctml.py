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
  ignored, as in the DFCI configuration, and listed in the trial's warnings; a leaf holding
  only ignored keys matches every patient (it is dropped from its ``and``; an ``or`` holding it
  is always true; a level left with no criterion matches any solid or liquid tumour); keys the
  engine would not understand are errors, and the CTIMS editor's own keys (``match_all``,
  ``WT``) are refused as unsupported extensions;
* an empty ``match`` list (an arm or dose level the engine can match no one to) is skipped, with
  a warning;
* ``variant_category`` is read case-insensitively and in its short forms (``CNV``, ``SV``);
  ``cnv_call`` also in the patient-side vocabulary (``High level amplification``,
  ``Homozygous deletion``...); ``==`` is a comparison, as ``=``;
* arm and dose-level codes that repeat within a trial are replaced by their internal ids (as
  MatchMiner keys levels), with a warning;
* the trial is open when its status is "open to accrual" (any case): by default
  ``_summary.status[0].value``, else a root ``status`` (the CTIMS editor's place); ``status_key``
  names another root key; ``arm_suspended: Y`` / ``level_suspended: Y`` close that level and the
  levels below it; a step whose arms are all suspended is closed;
* a document may hold one trial or a list of trials (:func:`trials_from_ctml`).
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
# Read case-insensitively, with the short forms the engine's patient records use.
_CATEGORY_ANY_CASE = {
    **{k.lower(): v for k, v in _CATEGORY.items()},
    "cnv": _CATEGORY["Copy Number Variation"],
    "sv": _CATEGORY["Structural Variation"],
}
_CN_CALL = {
    "High Amplification": "amplification",
    "Low Amplification": "gain",
    "Homozygous Deletion": "homozygous_deletion",
    "Heterozygous Deletion": "heterozygous_deletion",
}
# The patient-side vocabulary (DFCI genomic documents' CNV_CALL), lower case.
_CN_CALL_PATIENT = {
    "high level amplification": "amplification",
    "low level amplification": "gain",
    "gain": "gain",
    "amplification": "amplification",
    "homozygous deletion": "homozygous_deletion",
    "heterozygous deletion": "heterozygous_deletion",
}
# Keys the CTIMS editor writes that MatchMiner's engine does not read.
_CTIMS_EXTENSIONS = frozenset({"match_all", "WT"})
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
        "true_variant_classification",  # the sample field variant_classification is read from
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
_COMPARISON = re.compile(r"^\s*(>=|<=|==|>|<|=)?\s*([0-9]*\.?[0-9]+)\s*$")
# A level whose criteria are all ignored keys matches every patient: any solid or liquid tumour.
_ANY_TUMOUR: Node = Or((Category("diagnosis", SOLID), Category("diagnosis", LIQUID)))


def is_negated(value: Any) -> tuple[Any, bool]:
    """``'!this'`` -> ``('this', True)``; other values unchanged (as DFCI's ``is_negate``)."""
    if isinstance(value, str) and value.startswith("!"):
        return value[1:], True
    return value, False


class _Importer:
    def __init__(self, source: str, validator: Validator) -> None:
        self.source = source
        self.v = validator
        self.warnings: list[str] = []
        self.notices: list[tuple[str, dict[str, str]]] = []

    def warn(self, path: str, message: str, *, reason: str, **params: str) -> None:
        """Note what was accepted without being matched on: ``message`` is the English of
        ``reason`` with ``params`` as placeholders (the document and the path are added)."""
        self.warnings.append(f"{path}: {message % params if params else message}")
        self.notices.append((reason, {"source": self.source, "path": path, **params}))

    def extension(self, path: str, key: str) -> ValidationError:
        return self.fail(
            path,
            "an extension of the CTIMS editor that MatchMiner's engine does not read; "
            "unsupported: rewrite it with and/or and negated leaves",
            key,
            reason="ctml_extension",
        )

    def fail(
        self, path: str, message: str, value: Any, *, reason: str, **params: str
    ) -> ValidationError:
        """A refusal naming the document, the path and the value; ``message`` is the English of
        ``reason`` (the stable code the apps word it by), with ``params`` as placeholders.
        ``code`` stays ``invalid_ctml`` for every reason."""
        text = message % params if params else message
        return ValidationError(
            f"{self.source}: {path}: {text}; got {value!r}.",
            code="invalid_ctml",
            path=path,
            reason=reason,
            source=self.source,
            value=repr(value),
            **params,
        )

    # -- match trees --------------------------------------------------------------------------

    def match_list(self, data: Any, path: str) -> Node | None:
        """The ``and`` of a match list; None when it holds only ignored keys (always true)."""
        if not isinstance(data, list) or not data:
            raise self.fail(
                path, "a CTML 'match' is a non-empty list", data, reason="ctml_match_list"
            )
        nodes = [self.node(item, f"{path}[{i}]") for i, item in enumerate(data)]
        kept = [n for n in nodes if n is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else And(tuple(kept))

    def level_criteria(self, data: Any, path: str) -> Node | None:
        """A level's criteria; None (the level is skipped) for an empty ``match`` list."""
        if isinstance(data, list) and not data:
            self.warn(
                path,
                "empty match list: MatchMiner matches no patient here; skipped",
                reason="ctml_empty_match_list",
            )
            return None
        node = self.match_list(data, path)
        if node is None:
            self.warn(
                path,
                "only keys the engine ignores: the level matches any solid or liquid tumour",
                reason="ctml_only_ignored_keys",
            )
            return _ANY_TUMOUR
        return node

    def node(self, data: Any, path: str) -> Node | None:
        if not isinstance(data, Mapping) or len(data) != 1:
            if isinstance(data, Mapping) and _CTIMS_EXTENSIONS & set(data):
                raise self.extension(path, sorted(_CTIMS_EXTENSIONS & set(data))[0])
            raise self.fail(
                path,
                "a match node is an object with one key: and, or, genomic or clinical",
                data,
                reason="ctml_match_node",
            )
        ((key, value),) = data.items()
        here = f"{path}.{key}"
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise self.fail(
                    here, "'%(key)s' takes a non-empty list", value, reason="ctml_list", key=key
                )
            kids = [self.node(c, f"{here}[{i}]") for i, c in enumerate(value)]
            if key == "or" and any(k is None for k in kids):
                return None  # one branch always true
            kept = tuple(k for k in kids if k is not None)
            if not kept:
                return None
            if len(kept) == 1:
                return kept[0]
            return And(kept) if key == "and" else Or(kept)
        if key == "genomic":
            return self.genomic(value, here)
        if key == "clinical":
            return self.clinical(value, here)
        if key in _CTIMS_EXTENSIONS:
            raise self.extension(here, key)
        raise self.fail(
            path,
            "unknown match node; expected and, or, genomic or clinical",
            key,
            reason="ctml_unknown_node",
        )

    # -- leaves ---------------------------------------------------------------------------------

    def ignored(self, path: str, keys: list[str]) -> None:
        if keys:
            self.warn(
                path,
                "ignored as MatchMiner does: %(keys)s",
                reason="ctml_ignored_keys",
                keys=", ".join(keys),
            )

    def genomic(self, data: Any, path: str) -> Node | None:
        if not isinstance(data, Mapping) or not data:
            raise self.fail(
                path, "a genomic leaf is a non-empty object", data, reason="ctml_genomic_leaf"
            )
        fields: dict[str, Any] = {}
        extra: list[Node] = []
        negated = False
        ignored = [k for k in data if k in _IGNORED]
        self.ignored(path, ignored)
        if len(ignored) == len(data):
            return None
        for key, raw in data.items():
            here = f"{path}.{key}"
            if key in _IGNORED:
                continue
            if key in _CTIMS_EXTENSIONS:
                raise self.extension(here, key)
            if key not in _GENOMIC_KEYS:
                raise self.fail(here, "unknown genomic key", key, reason="ctml_genomic_key")
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
            elif key in ("variant_classification", "true_variant_classification"):
                fields["variant_classification"] = self.text(value, here)
            elif key == "variant_category":
                category = _CATEGORY_ANY_CASE.get(str(value).strip().lower())
                if category is None:
                    raise self.fail(
                        here,
                        "expected one of %(allowed)s",
                        raw,
                        reason="ctml_one_of",
                        allowed=", ".join(_CATEGORY),
                    )
                fields["categories"] = category
            elif key == "exon":
                fields["exon"] = self.integer(value, here)
            elif key == "cnv_call":
                call = _CN_CALL.get(value) or _CN_CALL_PATIENT.get(str(value).strip().lower())
                if call is None:
                    raise self.fail(
                        here,
                        "expected one of %(allowed)s",
                        raw,
                        reason="ctml_one_of",
                        allowed=", ".join(_CN_CALL),
                    )
                fields["cn_call"] = call
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
                        reason="ctml_wildtype",
                    )
            elif key in ("mmr_status", "ms_status"):
                if value not in _MSI:
                    raise self.fail(
                        here,
                        "expected one of %(allowed)s",
                        raw,
                        reason="ctml_one_of",
                        allowed=", ".join(_MSI),
                    )
                extra.append(Category("msi", _MSI[value]))
            else:
                if value not in ("Yes", "No"):
                    raise self.fail(
                        here, "a signature status is 'Yes' or 'No'", raw, reason="ctml_signature"
                    )
                sig: Node = Category("signature", _SIGNATURES[key])
                extra.append(sig if value == "Yes" else Not(sig))
        parts: list[Node] = []
        if fields:
            parts.append(Genomic(**fields))
        parts.extend(extra)
        if not parts:
            raise self.fail(
                path,
                "the genomic leaf has no key the engine matches on",
                dict(data),
                reason="ctml_genomic_empty",
            )
        node: Node = parts[0] if len(parts) == 1 else And(tuple(parts))
        return Not(node) if negated else node

    def clinical(self, data: Any, path: str) -> Node | None:
        if not isinstance(data, Mapping) or not data:
            raise self.fail(
                path, "a clinical leaf is a non-empty object", data, reason="ctml_clinical_leaf"
            )
        parts: list[Node] = []
        ignored = [k for k in data if k in _IGNORED]
        self.ignored(path, ignored)
        if len(ignored) == len(data):
            return None
        for key, raw in data.items():
            here = f"{path}.{key}"
            if key in _IGNORED:
                continue
            if key in _CTIMS_EXTENSIONS:
                raise self.extension(here, key)
            if key not in _CLINICAL_KEYS:
                raise self.fail(here, "unknown clinical key", key, reason="ctml_clinical_key")
            value, neg = is_negated(raw)
            node: Node
            if key == "oncotree_primary_diagnosis":
                codes = self.diagnosis(value, here)
                leaves = tuple(Category("diagnosis", c) for c in codes)
                node = leaves[0] if len(leaves) == 1 else Or(leaves)
            elif key == "gender":
                if value not in ("Male", "Female"):
                    raise self.fail(
                        here,
                        "DFCI matches gender case-sensitively: write 'Male' or 'Female'",
                        raw,
                        reason="ctml_gender",
                    )
                node = Category("sex", value.lower())
            elif key == "age_numerical":
                node = Numeric("age", self.comparison(value, here))
            else:
                node = Numeric("tmb", self.comparison(value, here))
            parts.append(Not(node) if neg else node)
        if not parts:
            raise self.fail(
                path,
                "the clinical leaf has no key the engine matches on",
                dict(data),
                reason="ctml_clinical_empty",
            )
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    # -- values -------------------------------------------------------------------------------

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "expected a non-empty string", value, reason="ctml_text")
        return value.strip()

    def integer(self, value: Any, path: str) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise self.fail(path, "expected an integer", value, reason="ctml_integer") from None
        if number < 1:
            raise self.fail(path, "an exon is a positive integer", value, reason="ctml_exon")
        return number

    def comparison(self, value: Any, path: str) -> Range:
        m = _COMPARISON.match(str(value))
        if m is None:
            raise self.fail(
                path,
                "expected a comparison such as '>=18' or '<.5'",
                value,
                reason="ctml_comparison",
            )
        op, number = m.group(1) or "=", float(m.group(2))
        if op in ("=", "=="):
            return Range(gte=number, lte=number)
        key = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}[op]
        return Range(**{key: number})

    def diagnosis(self, value: Any, path: str) -> tuple[str, ...]:
        """Codes named by a CTML diagnosis (a name, or a code; a repeated name gives all)."""
        if value in ("_SOLID_", "_LIQUID_"):
            return (SOLID if value == "_SOLID_" else LIQUID,)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                path, "expected an OncoTree name or code", value, reason="ctml_diagnosis"
            )
        tree = self.v.oncotree
        if tree is None:
            return (self.v.diagnosis(value, self.source, path),)
        codes = tree.codes_for_name(value)
        if not codes and value in set(tree.codes()):
            codes = (value,)
        if not codes:
            raise self.fail(
                path,
                "unknown OncoTree name (and not an OncoTree code)",
                value,
                reason="ctml_unknown_diagnosis",
            )
        return codes


def _yes(value: Any) -> bool:
    return str(value).strip().upper() in ("Y", "YES", "TRUE")


def _status_of(data: Mapping[str, Any], status_key: str | None) -> str:
    if status_key:
        value = data.get(status_key)
        return value if isinstance(value, str) else ""
    summary = data.get("_summary")
    if isinstance(summary, Mapping):
        items = summary.get("status")
        if isinstance(items, list) and items and isinstance(items[0], Mapping):
            return str(items[0].get("value", ""))
    root = data.get("status")  # the CTIMS editor writes the status at the root
    return root if isinstance(root, str) else ""


def _codes(items: list[Any], code_key: str, id_key: str, where: str, imp: _Importer) -> list[str]:
    """Each arm's (or dose level's) code; internal ids where codes repeat, as MatchMiner keys."""
    codes = [
        str(x.get(code_key) or x.get(id_key) or i) if isinstance(x, Mapping) else str(i)
        for i, x in enumerate(items)
    ]
    for i, item in enumerate(items):
        if codes.count(codes[i]) > 1 and isinstance(item, Mapping) and item.get(id_key):
            imp.warn(
                f"{where}[{i}]",
                "%(code_key)s %(code_value)s repeats; keyed by %(id_key)s %(id_value)s",
                reason="ctml_code_repeats",
                code_key=code_key,
                code_value=repr(codes[i]),
                id_key=id_key,
                id_value=repr(item[id_key]),
            )
            codes[i] = f"{codes[i]}#{item[id_key]}"
    return [c.replace("/", "_") for c in codes]


def trials_from_ctml(
    data: Any,
    *,
    source: str,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
    status_key: str | None = None,
) -> list[Trial]:
    """One trial, or every trial of a JSON array of trials (each as :func:`trial_from_ctml`)."""
    if isinstance(data, list):
        if not data:
            raise ValidationError(
                f"{source}: the list of CTML trials is empty.",
                code="ctml_empty_list",
                source=source,
            )
        return [
            trial_from_ctml(
                item,
                source=f"{source}[{i}]",
                oncotree=oncotree,
                genes=genes,
                status_key=status_key,
            )
            for i, item in enumerate(data)
        ]
    return [
        trial_from_ctml(data, source=source, oncotree=oncotree, genes=genes, status_key=status_key)
    ]


def trial_from_ctml(
    data: Any,
    *,
    source: str,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
    status_key: str | None = None,
) -> Trial:
    """Translate one CTML trial (already parsed from YAML/JSON) into a :class:`Trial`.

    All or nothing: any invalid part raises a :class:`ValidationError` naming ``source``, the
    path inside the document and the value, and no trial is returned. What was accepted
    without being matched on is listed in ``Trial.warnings``. ``status_key`` names the root
    key holding the trial's status (default: ``_summary.status[0].value``, else ``status``).
    """
    if not isinstance(data, Mapping):
        raise ValidationError(
            f"{source}: a CTML trial is an object; got {type(data).__name__}.",
            code="ctml_not_object",
            source=source,
            kind=type(data).__name__,
        )
    imp = _Importer(source, Validator(oncotree, genes))
    protocol = data.get("protocol_no")
    if not isinstance(protocol, str | int) or isinstance(protocol, bool) or not str(protocol):
        raise imp.fail(
            "protocol_no", "a CTML trial needs its protocol_no", protocol, reason="ctml_protocol"
        )
    trial_id = str(protocol)
    trial_open = _status_of(data, status_key).strip().lower() == "open to accrual"
    levels: list[Level] = []
    if "match" in data:
        node = imp.level_criteria(data["match"], "match")
        if node is not None:
            levels.append(Level(trial_id, "trial", "", trial_id, trial_open, None, node))
    treatment = data.get("treatment_list") or {}
    if not isinstance(treatment, Mapping):
        raise imp.fail(
            "treatment_list", "expected an object with 'step'", treatment, reason="ctml_step_object"
        )
    steps = treatment.get("step") or []
    if not isinstance(steps, list):
        raise imp.fail("treatment_list.step", "expected a list", steps, reason="ctml_expected_list")
    for s, step in enumerate(steps):
        spath = f"treatment_list.step[{s}]"
        if not isinstance(step, Mapping):
            raise imp.fail(spath, "expected an object", step, reason="ctml_expected_object")
        arms = step.get("arm") or []
        if not isinstance(arms, list):
            raise imp.fail(f"{spath}.arm", "expected a list", arms, reason="ctml_expected_list")
        step_code = str(step.get("step_code") or step.get("step_internal_id") or s)
        all_suspended = bool(arms) and all(
            isinstance(a, Mapping) and _yes(a.get("arm_suspended", "N")) for a in arms
        )
        step_open = trial_open and not all_suspended
        if "match" in step:
            node = imp.level_criteria(step["match"], f"{spath}.match")
            if node is not None:
                levels.append(
                    Level(trial_id, "step", f"step:{step_code}", step_code, step_open, None, node)
                )
        arm_codes = _codes(arms, "arm_code", "arm_internal_id", f"{spath}.arm", imp)
        for a, arm in enumerate(arms):
            apath = f"{spath}.arm[{a}]"
            if not isinstance(arm, Mapping):
                raise imp.fail(apath, "expected an object", arm, reason="ctml_expected_object")
            code = arm_codes[a]
            arm_open = step_open and not _yes(arm.get("arm_suspended", "N"))
            if "match" in arm:
                node = imp.level_criteria(arm["match"], f"{apath}.match")
                if node is not None:
                    levels.append(
                        Level(
                            trial_id,
                            "arm",
                            code,
                            str(arm.get("arm_description") or code),
                            arm_open,
                            None,
                            node,
                        )
                    )
            doses = arm.get("dose_level") or []
            if not isinstance(doses, list):
                raise imp.fail(
                    f"{apath}.dose_level", "expected a list", doses, reason="ctml_expected_list"
                )
            dose_codes = _codes(
                doses, "level_code", "level_internal_id", f"{apath}.dose_level", imp
            )
            for d, dose in enumerate(doses):
                dpath = f"{apath}.dose_level[{d}]"
                if not isinstance(dose, Mapping):
                    raise imp.fail(dpath, "expected an object", dose, reason="ctml_expected_object")
                if "match" not in dose:
                    continue
                node = imp.level_criteria(dose["match"], f"{dpath}.match")
                if node is None:
                    continue
                levels.append(
                    Level(
                        trial_id,
                        "dose_level",
                        f"{code}/{dose_codes[d]}",
                        str(dose.get("level_code") or dose_codes[d]),
                        arm_open and not _yes(dose.get("level_suspended", "N")),
                        None,
                        node,
                    )
                )
    if not levels:
        raise imp.fail(
            "treatment_list",
            "the trial has no 'match' at any level",
            trial_id,
            reason="ctml_no_match",
        )
    paths = [lvl.path for lvl in levels]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise imp.fail(
            "treatment_list",
            "arm or dose-level codes repeat within the trial and have no internal id to tell "
            "them apart",
            dupes[0],
            reason="ctml_repeated_codes",
        )
    title = str(data.get("short_title") or data.get("long_title") or "")
    return Trial(
        trial_id,
        title,
        trial_open,
        tuple(levels),
        source,
        format="ctml",
        warnings=tuple(f"{source}: {w}" for w in imp.warnings),
        notices=tuple(imp.notices),
    )
