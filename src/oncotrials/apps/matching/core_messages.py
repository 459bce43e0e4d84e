"""The matching core's refusals in the user's language.

``oncotrials.core.matching`` (no Django there) refuses a criteria tree or a CTML document with
the code ``invalid_criteria`` / ``invalid_ctml`` and, in ``extra``, the ``reason`` (which rule
was broken), the ``source`` (file or trial), the ``path`` in the tree and the ``value`` received;
its other refusals carry a code of their own. This is the one place that words them: each reason
or code maps to a translatable template with the same placeholders, so the file, the path and the
value stay where the user looks for them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue

MATCHING_CORE_MESSAGES: Catalogue = {
    # --- the criteria language (core/matching/criteria.py) ----------------------------------
    "criteria_range_object": _(
        "%(source)s: %(path)s: expected an object with gt/gte/lt/lte bounds; got %(value)s."
    ),
    "criteria_bound_number": _(
        "%(source)s: %(path)s: a bound must be a finite number; got %(value)s."
    ),
    "criteria_bound_key": _(
        "%(source)s: %(path)s: unknown key; use gt, gte, lt or lte; got %(value)s."
    ),
    "criteria_bound_missing": _(
        "%(source)s: %(path)s: give at least one of gt, gte, lt, lte; got %(value)s."
    ),
    "criteria_gene_symbol": _(
        "%(source)s: %(path)s: %(value)s is not a gene symbol; write an HGNC symbol such as 'KRAS'."
    ),
    "criteria_unknown_gene": _(
        "%(source)s: %(path)s: unknown gene symbol (not in the gene catalogue); got %(value)s."
    ),
    "criteria_diagnosis": _(
        "%(source)s: %(path)s: expected an OncoTree code, _SOLID_ or _LIQUID_; got %(value)s."
    ),
    "criteria_unknown_oncotree": _("%(source)s: %(path)s: unknown OncoTree code; got %(value)s."),
    "criteria_one_key": _(
        "%(source)s: %(path)s: a criterion is an object with exactly one key (and, or, not, "
        "genomic, diagnosis, ...); got %(value)s."
    ),
    "criteria_list": _(
        "%(source)s: %(path)s: '%(key)s' takes a non-empty list of criteria; got %(value)s."
    ),
    "criteria_lab_name": _(
        "%(source)s: %(path)s: a lab criterion needs the lab name; got %(value)s."
    ),
    "criteria_text": _("%(source)s: %(path)s: expected a non-empty string; got %(value)s."),
    "criteria_one_of": _("%(source)s: %(path)s: expected one of %(allowed)s; got %(value)s."),
    "criteria_unknown": _(
        "%(source)s: %(path)s: unknown criterion; expected and, or, not, genomic, tmb, msi, "
        "signature, diagnosis, sex, age, ecog, prior_lines, prior_therapy or lab; got %(value)s."
    ),
    "criteria_one_or_any": _("%(source)s: %(path)s: expected %(allowed)s or any; got %(value)s."),
    "criteria_at_least_one": _("%(source)s: %(path)s: give at least one %(noun)s; got %(value)s."),
    "criteria_genomic_object": _(
        "%(source)s: %(path)s: expected a non-empty object of alteration fields; got %(value)s."
    ),
    "criteria_genomic_field": _(
        "%(source)s: %(path)s: unknown field; use %(keys)s; got %(value)s."
    ),
    "criteria_exon": _("%(source)s: %(path)s: an exon is a positive integer; got %(value)s."),
    "criteria_codon": _(
        "%(source)s: %(path)s: expected a codon such as 'p.V600' or 'V600'; got %(value)s."
    ),
    # --- CTML (core/matching/ctml.py) -------------------------------------------------------
    "ctml_empty_list": _("%(source)s: the list of CTML trials is empty."),
    "ctml_not_object": _("%(source)s: a CTML trial is an object; got %(kind)s."),
    "ctml_extension": _(
        "%(source)s: %(path)s: an extension of the CTIMS editor that MatchMiner's engine does "
        "not read; unsupported: rewrite it with and/or and negated leaves; got %(value)s."
    ),
    "ctml_match_list": _(
        "%(source)s: %(path)s: a CTML 'match' is a non-empty list; got %(value)s."
    ),
    "ctml_match_node": _(
        "%(source)s: %(path)s: a match node is an object with one key: and, or, genomic or "
        "clinical; got %(value)s."
    ),
    "ctml_list": _("%(source)s: %(path)s: '%(key)s' takes a non-empty list; got %(value)s."),
    "ctml_unknown_node": _(
        "%(source)s: %(path)s: unknown match node; expected and, or, genomic or clinical; "
        "got %(value)s."
    ),
    "ctml_genomic_leaf": _(
        "%(source)s: %(path)s: a genomic leaf is a non-empty object; got %(value)s."
    ),
    "ctml_genomic_key": _("%(source)s: %(path)s: unknown genomic key; got %(value)s."),
    "ctml_one_of": _("%(source)s: %(path)s: expected one of %(allowed)s; got %(value)s."),
    "ctml_wildtype": _(
        "%(source)s: %(path)s: wild-type rows are not part of our genomic model; express 'no "
        "<gene> alteration' as a negated leaf instead; got %(value)s."
    ),
    "ctml_signature": _(
        "%(source)s: %(path)s: a signature status is 'Yes' or 'No'; got %(value)s."
    ),
    "ctml_genomic_empty": _(
        "%(source)s: %(path)s: the genomic leaf has no key the engine matches on; got %(value)s."
    ),
    "ctml_clinical_leaf": _(
        "%(source)s: %(path)s: a clinical leaf is a non-empty object; got %(value)s."
    ),
    "ctml_clinical_key": _("%(source)s: %(path)s: unknown clinical key; got %(value)s."),
    "ctml_gender": _(
        "%(source)s: %(path)s: DFCI matches gender case-sensitively: write 'Male' or 'Female'; "
        "got %(value)s."
    ),
    "ctml_clinical_empty": _(
        "%(source)s: %(path)s: the clinical leaf has no key the engine matches on; got %(value)s."
    ),
    "ctml_text": _("%(source)s: %(path)s: expected a non-empty string; got %(value)s."),
    "ctml_integer": _("%(source)s: %(path)s: expected an integer; got %(value)s."),
    "ctml_exon": _("%(source)s: %(path)s: an exon is a positive integer; got %(value)s."),
    "ctml_comparison": _(
        "%(source)s: %(path)s: expected a comparison such as '>=18' or '<.5'; got %(value)s."
    ),
    "ctml_diagnosis": _("%(source)s: %(path)s: expected an OncoTree name or code; got %(value)s."),
    "ctml_unknown_diagnosis": _(
        "%(source)s: %(path)s: unknown OncoTree name (and not an OncoTree code); got %(value)s."
    ),
    "ctml_protocol": _("%(source)s: %(path)s: a CTML trial needs its protocol_no; got %(value)s."),
    "ctml_step_object": _("%(source)s: %(path)s: expected an object with 'step'; got %(value)s."),
    "ctml_expected_list": _("%(source)s: %(path)s: expected a list; got %(value)s."),
    "ctml_expected_object": _("%(source)s: %(path)s: expected an object; got %(value)s."),
    "ctml_no_match": _(
        "%(source)s: %(path)s: the trial has no 'match' at any level; got %(value)s."
    ),
    # what a CTML import accepted without matching on it (warnings, not refusals)
    "ctml_empty_match_list": _(
        "%(source)s: %(path)s: empty match list: MatchMiner matches no patient here; skipped"
    ),
    "ctml_only_ignored_keys": _(
        "%(source)s: %(path)s: only keys the engine ignores: the level matches any solid or "
        "liquid tumour"
    ),
    "ctml_ignored_keys": _("%(source)s: %(path)s: ignored as MatchMiner does: %(keys)s"),
    "ctml_code_repeats": _(
        "%(source)s: %(path)s: %(code_key)s %(code_value)s repeats; keyed by %(id_key)s "
        "%(id_value)s"
    ),
    "ctml_repeated_codes": _(
        "%(source)s: %(path)s: arm or dose-level codes repeat within the trial and have no "
        "internal id to tell them apart; got %(value)s."
    ),
    # --- patient and trial files, the engine, OncoTree (records, trials, engine, oncotree) -
    "matching_expected_kind": _("%(where)s.%(key)s: expected %(kind_name)s; got %(value)s."),
    "matching_alteration_object": _("%(where)s: an alteration must be an object; got %(data)s."),
    "matching_unknown_field_alteration_fields": _(
        "%(where)s: unknown field %(extra)s; alteration fields are %(known)s."
    ),
    "matching_classes_expected_list_strings": _(
        "%(where)s.classes: expected a list of strings; got %(classes)s."
    ),
    "matching_patient_object": _("%(where)s: a patient must be an object; got %(data)s."),
    "matching_unknown_field_patient_fields": _(
        "%(where)s: unknown field %(extra)s; patient fields are %(known)s."
    ),
    "matching_prior_therapies_expected_list": _(
        "%(where)s.prior_therapies: expected a list of strings; got %(therapies)s."
    ),
    "matching_labs_expected_object_numbers": _(
        "%(where)s.labs: expected an object of numbers; got %(labs)s."
    ),
    "matching_expected_list_patients_object": _(
        "%(source)s: expected a list of patients (or an object with 'patients'); got %(name)s."
    ),
    "matching_origin_one": _("%(where)s: origin must be one of %(origins)s; got %(origin)s."),
    "matching_category_one": _(
        "%(where)s: category must be one of %(categories)s; got %(category)s."
    ),
    "matching_partner_exon_structural_variants": _(
        "%(where)s: partner_exon is for structural variants only."
    ),
    "matching_cn_call_one": _("%(where)s: cn_call must be one of %(cn_calls)s; got %(cn_call)s."),
    "matching_report_msi_high_stable": _("report msi must be 'high' or 'stable'; got %(msi)s."),
    "matching_report_tmb_non_negative": _("report tmb must be a non-negative number; got %(tmb)s."),
    "matching_patient_id_non_empty": _("patient id must be a non-empty string; got %(id)s."),
    "matching_sex_female_male": _("%(where)s: sex must be 'female' or 'male'; got %(sex)s."),
    "matching_ecog_integer": _("%(where)s: ecog must be an integer 0-5; got %(ecog)s."),
    "matching_prior_lines_non_negative": _(
        "%(where)s: prior_lines must be a non-negative integer; got %(prior_lines)s."
    ),
    "matching_age_non_negative_number": _(
        "%(where)s: age must be a non-negative number; got %(age)s."
    ),
    "matching_alteration_located": _("%(where)s: %(detail)s"),
    "matching_report_expected_object": _("%(where)s.report: expected an object; got %(raw)s."),
    "matching_report_alterations_expected_list": _(
        "%(where)s.report.alterations: expected a list; got %(alts)s."
    ),
    "matching_report_signatures_expected_list": _(
        "%(where)s.report.signatures: expected a list; got %(sigs)s."
    ),
    "matching_patient_located": _("%(where)s: %(detail)s"),
    "matching_patients_id_repeated_ids": _(
        "%(source)s: patients[%(i)s].id %(id)s is repeated; ids must be unique."
    ),
    "matching_whole_number_from": _(
        "%(where)s: %(name)s must be a whole number from 1 to %(max_exon)s; got %(value)s."
    ),
    "matching_report_located": _("%(where)s.report: %(detail)s"),
    "matching_status_one": _(
        "%(source)s: %(path)s: status must be one of %(statuses)s; got %(value)s."
    ),
    "matching_slots_non_negative_integer": _(
        "%(source)s: %(path)s: slots must be a non-negative integer or null; got %(value)s."
    ),
    "matching_expected_non_empty_identifier": _(
        "%(source)s: %(path)s: expected a non-empty identifier without '/'; got %(value)s."
    ),
    "matching_unknown_key_allowed": _(
        "%(source)s: %(path)s.%(extra)s: unknown key; allowed: %(allowed)s."
    ),
    "matching_trial_object": _("%(source)s: a trial must be an object; got %(name)s."),
    "matching_cohorts_expected_list": _("%(source)s: cohorts: expected a list; got %(cohorts)s."),
    "matching_holds_trials_one_expected": _(
        "%(path)s: holds %(n_trials)s trials; one was expected."
    ),
    "matching_directory_trial_files": _("%(directory)s: not a directory of trial files."),
    "matching_valid_json_line_fix": _(
        "%(path)s: not valid JSON (%(msg)s at line %(lineno)s); fix the syntax."
    ),
    "matching_valid_yaml_fix_syntax": _("%(path)s: not valid YAML%(where)s; fix the syntax."),
    "matching_trial_neither_criteria_nor": _(
        "%(source)s: trial %(trial_id)s has neither criteria nor cohorts; give trial-level "
        "criteria or at least one cohort."
    ),
    "matching_expected_object": _("%(source)s: %(where)s: expected an object; got %(cohort)s."),
    "matching_id_cohort_id_repeated": _("%(source)s: %(where)s.id: cohort id %(cid)s is repeated."),
    "matching_cohort_criteria_trial_none": _(
        "%(source)s: %(where)s: cohort %(cid)s has no criteria and the trial has none; write "
        "the cohort's criteria."
    ),
    "matching_dose_levels_expected_list": _(
        "%(source)s: %(where)s.dose_levels: expected a list; got %(doses)s."
    ),
    "matching_expected_object_2": _("%(source)s: %(dwhere)s: expected an object; got %(dose)s."),
    "matching_id_dose_level_repeated": _(
        "%(source)s: %(dwhere)s.id: dose level %(did)s is repeated."
    ),
    "matching_trial_id_also_used": _(
        "%(file)s: trial id %(id)s is also used by %(seen)s; ids must be unique."
    ),
    "matching_patient_diagnosis_oncotree_code": _(
        "patient %(id)s: diagnosis %(diagnosis)s is not an OncoTree code; use a code such as "
        "'LUAD'."
    ),
    "matching_patient_matching_set": _("patient %(patient_id)s is not in the matching set."),
    "matching_trial_matching_set": _("trial %(trial_id)s is not in the matching set."),
    "matching_patient_matching_set_check": _(
        "patient %(patient_id)s is not in the matching set; check the id."
    ),
    "matching_record_patient_explain_load": _(
        "no record of patient %(patient_id)s to explain; load the patient's record."
    ),
    "matching_trial_loaded_check_trial": _("trial %(trial_id)s is not loaded; check the trial id."),
    "matching_trial_id_given_twice": _("trial id %(id)s is given twice; ids must be unique."),
    "matching_expected_json_object": _("%(source)s: expected a JSON object; got %(name)s."),
    "matching_oncotree_parent_code_tree": _(
        "OncoTree: the parent %(parent)s of %(code_value)s is not a code of the tree."
    ),
    "matching_node_without_code_under": _("%(source)s: a node without 'code' under %(parent)s."),
    "matching_valid_json_line": _("%(path)s: not valid JSON (%(msg)s, line %(lineno)s)."),
    "matching_patient_ids_unique_repeated": _(
        "patient ids must be unique; a repeated id was given."
    ),
    "invalid_gene": _(
        "%(where)s: %(value)s is not a gene symbol; write an HGNC symbol such as 'KRAS'."
    ),
}
