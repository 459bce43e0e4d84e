"""The problems of a genomic file in the user's language, with its file, line and field.

The readers of ``oncotrials.core.genomics`` (no Django there) record each problem as an
``Issue`` with a stable ``code`` and the values it names; this module keeps, for each code, a
translatable template with the same placeholders, and words the location the same way. A code
it does not know keeps the reader's English message (the location is still translated).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue
from oncotrials.core.genomics.issues import GenomicFileError, Issue

#: code -> the reader's message, translatable (see ``IssueLog.error(..., code=...)``)
GENOMIC_FILE_MESSAGES: Catalogue = {
    "genomic_assertion_object_with_feature_type": _(
        "an assertion must be an object with feature_type."
    ),
    "genomic_attribute_ids_upper_case": _("attribute ids must be upper case."),
    "genomic_blood_germline_sample_cannot_carry": _(
        "a blood (germline) sample cannot carry a somatic call; report it on the tumour sample."
    ),
    "genomic_byte_not_utf8": _("byte 0x%(byte)s is not valid UTF-8; save the file as UTF-8."),
    "genomic_case_list_needs": _("a case list needs '%(key)s:'."),
    "genomic_civic_columns_missing": _("CIViC columns missing: %(missing)s."),
    "genomic_clinical_file_starts_with_four": _(
        "a clinical file starts with four '#' lines (display names, descriptions, datatypes, priorities) before the header; found %(n_comments)s."
    ),
    "genomic_cna_file_needs_hugo_symbol": _("a CNA file needs Hugo_Symbol or Entrez_Gene_Id."),
    "genomic_code_read_as": _("%(code_value)s read as %(resolved)s."),
    "genomic_column_appears_twice_header": _("column %(h)s appears twice in the header."),
    "genomic_column_empty": _("%(column)s is empty."),
    "genomic_column_not_read": _("column %(h)s is not read."),
    "genomic_consequence_not_known_sequence_ontology": _(
        "consequence %(consequence)s is not a known Sequence Ontology term."
    ),
    "genomic_data_file_does_not_exist": _(
        "data file %(name)s does not exist beside the meta file."
    ),
    "genomic_datatype_one": _("datatype %(datatype)s must be one of %(datatypes)s."),
    "genomic_differs_from_study_s": _("%(value)s differs from the study's %(study_id)s."),
    "genomic_discrete_cna_value_not_one": _(
        "discrete CNA value %(v)s is not one of -2, -1, 0, 1, 2."
    ),
    "genomic_empty_expected_tab_separated_header": _(
        "the %(kind)s is empty; expected a tab-separated header row."
    ),
    "genomic_event_type_empty": _("EVENT_TYPE is empty."),
    "genomic_expected_json_list_assertions_flat": _(
        "expected a JSON list of assertions (the flat MOAlmanac export)."
    ),
    "genomic_expected_key_value_got": _("expected 'key: value', got %(line_no)s."),
    "genomic_fields_but_header_has": _("%(n_parts)s fields but the header has %(n_header)s."),
    "genomic_file_ends_middle_this_line": _(
        "the file ends in the middle of this line (no final newline): truncated?"
    ),
    "genomic_file_needs_column": _("the %(kind)s file needs a %(c)s column."),
    "genomic_gene_empty": _("the gene is empty."),
    "genomic_gene_given_twice_sample": _("gene %(g)s is given twice for sample %(s)s."),
    "genomic_gene_has_more_than_one": _("gene %(g)s has more than one row."),
    "genomic_gene_panel_file_needs": _("a gene panel file needs '%(key)s:'."),
    "genomic_gene_panel_has_no_data": _("gene panel %(panel_id)s has no data_gene_panel file."),
    "genomic_gene_panel_matrix_needs_sample": _("the gene panel matrix needs SAMPLE_ID."),
    "genomic_gene_symbol_read": _("gene symbol %(value)s read as %(g)s."),
    "genomic_gene_symbol_read_row_s": _("gene symbol %(a)s read as %(b)s (%(n)s row(s))."),
    "genomic_genome_build_does_not_match": _(
        "genome build %(build_raw)s does not match the study's %(genome_build)s."
    ),
    "genomic_gzip_data_cut_short_damaged": _(
        "the gzip data is cut short or damaged (%(exc)s); the file is truncated at this line."
    ),
    "genomic_header_has_empty_column_name": _("the header has an empty column name."),
    "genomic_header_one_column": _(
        "the header has a single column (%(header)s); the %(kind)s must be tab-separated."
    ),
    "genomic_header_one_column_separator": _(
        "the header has a single column (%(header)s); it looks %(separator)s-separated; the %(kind)s must be tab-separated."
    ),
    "genomic_key_given_twice": _("key %(key)s is given twice."),
    "genomic_lies_no_exon_stored": _("%(site)s lies in %(region)s %(value)s: no exon stored."),
    "genomic_line_empty_remove_blank_lines": _(
        "the line is empty; remove blank lines inside the table."
    ),
    "genomic_line_extra_fields": _(
        "the line has %(k)s tab-separated fields but the header has %(n_fields)s (extra fields)."
    ),
    "genomic_line_missing_fields": _(
        "the line has %(k)s tab-separated fields but the header has %(n_fields)s (truncated line or missing fields)."
    ),
    "genomic_long_cna_layout_needs_column": _("the long CNA layout needs a %(c)s column."),
    "genomic_looks_like_spreadsheet_date_conversion": _(
        "%(value)s looks like a spreadsheet date conversion; check the source value."
    ),
    "genomic_may_contain_only_letters_digits": _(
        "%(v)s may contain only letters, digits, '.', '_' and '-'."
    ),
    "genomic_meta_file_does_not_name": _("the meta file does not name its data file."),
    "genomic_meta_study_needs": _("meta_study needs '%(key)s:'."),
    "genomic_molecular_profile_empty": _("the molecular profile is empty."),
    "genomic_neither_site_names_gene": _("neither site names a gene."),
    "genomic_no_hugo_symbol_column_genes": _("no Hugo_Symbol column: genes are Entrez ids."),
    "genomic_no_protein_change_column_hgvsp": _(
        "no protein-change column (HGVSp_Short, HGVSp, Protein_Change or Amino_Acid_Change); protein changes will be empty."
    ),
    "genomic_normal_sample_not_found_columns": _(
        "normal sample %(n)s not found; columns are %(samples)s."
    ),
    "genomic_not_date": _("%(value)s is not a date (YYYY-MM-DD)."),
    "genomic_not_number_datatype_number": _("%(value)s is not a number (datatype NUMBER)."),
    "genomic_not_percentage": _("%(freq)s is not a percentage."),
    "genomic_not_readable_vcf": _("not a readable VCF (%(exc)s)."),
    "genomic_not_true_false_datatype_boolean": _(
        "%(value)s is not TRUE or FALSE (datatype BOOLEAN)."
    ),
    "genomic_not_valid_json": _("not valid JSON (%(msg)s)."),
    "genomic_not_valid_json_column": _("not valid JSON: %(msg)s (column %(colno)s)."),
    "genomic_not_valid_utf": _("not valid UTF-8."),
    "genomic_not_vocabulary_values_are_case": _(
        "%(value)s is not in the vocabulary (%(exact)s; values are case-sensitive)."
    ),
    "genomic_not_whole_number": _("%(v)s is not a whole number."),
    "genomic_not_whole_number_days_since": _(
        "%(v)s is not a whole number of days since diagnosis."
    ),
    "genomic_patient_has_no_sample_sample": _("patient %(pid)s has no sample in the sample file."),
    "genomic_patient_id_empty": _("PATIENT_ID is empty."),
    "genomic_patient_not_clinical_files": _("patient %(pid)s is not in the clinical files."),
    "genomic_priority_integer": _("priority %(priority)s must be an integer."),
    "genomic_protein_change_not_recognised_kept": _(
        "protein change %(raw_p)s not recognised; kept raw."
    ),
    "genomic_read_mapped_spelling": _("%(what)s %(raw)s read as %(aliases)s (mapped spelling)."),
    "genomic_record_cannot_parsed_truncated": _(
        "the record cannot be parsed (%(exc)s); truncated?"
    ),
    "genomic_record_has_no_alt_allele": _("the record has no ALT allele."),
    "genomic_reference_genome_hg_hg": _(
        "reference_genome %(reference_genome)s must be hg19 or hg38."
    ),
    "genomic_repeated_first_line": _("%(ident)s is repeated (first on line %(lines)s)."),
    "genomic_report_s_sample_blood_germline": _(
        "the report's sample is a blood (germline) sample: a normal sample has no matched normal."
    ),
    "genomic_reported_but_not_assay_covered": _(
        "%(g)s is reported but not in assay/covered_genes."
    ),
    "genomic_sample_belongs_patient_who_not": _(
        "sample %(sid)s belongs to patient %(pid)s, who is not in the patient file."
    ),
    "genomic_sample_id_empty": _("Sample_Id is empty."),
    "genomic_sample_id_upper_empty": _("SAMPLE_ID is empty."),
    "genomic_sample_not_clinical_sample_file": _(
        "sample %(sample)s is not in the clinical sample file."
    ),
    "genomic_sample_not_clinical_sample_file_add": _(
        "sample %(s)s is not in the clinical sample file; add it there."
    ),
    "genomic_sample_s_not_clinical_sample": _(
        "%(n_unknown)s sample(s) not in the clinical sample file, e.g. %(unknown)s."
    ),
    "genomic_seg_file_needs_columns_missing": _(
        "a SEG file needs the columns %(seg_header)s; missing %(missing)s."
    ),
    "genomic_segment_sample_overlaps_one_line": _(
        "the segment %(chromosome)s:%(start)s-%(end)s of sample %(sample_id)s overlaps the one on line %(other_line)s."
    ),
    "genomic_start_date_empty_give_days": _("START_DATE is empty; give days since diagnosis."),
    "genomic_survival_status_values_start_with": _(
        "%(value)s: survival status values start with '0:' or '1:'."
    ),
    "genomic_sv_file_needs_column": _("the SV file needs a %(c)s column."),
    "genomic_sv_file_needs_hugo_symbol": _(
        "the SV file needs %(site)s_Hugo_Symbol or %(site)s_Entrez_Gene_Id."
    ),
    "genomic_sv_status_somatic_germline": _("SV_Status %(status)s must be SOMATIC or GERMLINE."),
    "genomic_timeline_starts_with_columns_this": _(
        "a timeline starts with the columns %(timeline_required)s in this order; got %(header)s."
    ),
    "genomic_tumour_sample_itself_matched_normal": _(
        "%(normal)s is the tumour sample itself; the matched normal is another sample."
    ),
    "genomic_tumour_sample_not_found_columns": _(
        "tumour sample %(t)s not found; columns are %(samples)s. Name it with tumour=."
    ),
    "genomic_unknown_genome_build": _("unknown genome build %(build_raw)s."),
    "genomic_unknown_oncotree_code": _("unknown OncoTree code %(code_value)s (%(version)s)."),
    "genomic_vaf_below_assay_s_limit": _(
        "VAF %(vaf)s is below the assay's limit of detection %(lod)s; kept, flagged below LoD."
    ),
    "genomic_vaf_percent": _(
        "VAF column %(column)s holds values up to %(top)s, none above 100: read as percent and divided by 100."
    ),
    "genomic_vaf_percent_ratio": _(
        "VAF column %(column)s holds values up to %(top)s, none above 100: read as percent and divided by 100; the allele counts give a ratio of %(ratio)s."
    ),
    "genomic_value_read_mapped_spelling": _("%(value)s read as %(aliases)s (mapped spelling)."),
    "genomic_vcf_declares_but_was_expected": _(
        "the VCF declares %(build)s but %(expected)s was expected; lift it over first."
    ),
    "genomic_vcf_has_no_sample_columns": _("the VCF has no sample columns."),
}


#: The refusals of a patient map (``oncotrials.core.genomics.normalised.PatientMap``).
PATIENT_MAP_MESSAGES: Catalogue = {
    "patient_map_timepoint": _(
        "%(name)s line %(line)s: timepoint must be one of %(timepoints)s; got %(timepoint)s."
    ),
    "patient_map_kind": _(
        "%(name)s line %(line)s: kind must be one of %(sample_kinds)s; got %(kind)s."
    ),
    "patient_map_header": _(
        "%(name)s line 1: the header needs research_id and sample_id or patient_id; got %(value)s."
    ),
    "patient_map_tumour_fraction": _(
        "%(name)s line %(line)s: tumour_fraction must be a number in [0, 1]; got %(t)s."
    ),
    "patient_map_unreadable": _("%(p)s: cannot read the patient map (%(exc)s)."),
    "patient_map_ids_required": _(
        "%(name)s line %(n)s: research_id and a sample_id or patient_id are required."
    ),
    "patient_map_collected_on": _(
        "%(name)s line %(line)s: collected_on must be a date YYYY-MM-DD; got %(c)s."
    ),
}


def issue_text(issue: Issue) -> str:
    """``file, line N, field F: message`` in the active language."""
    message = issue.message
    template = GENOMIC_FILE_MESSAGES.get(issue.code) if issue.code else None
    if template is not None:
        try:
            message = str(template) % dict(issue.params)
        except (KeyError, TypeError, ValueError):
            message = issue.message
    values = {"file": issue.file, "line": issue.line, "field": issue.field, "message": message}
    if issue.line is not None and issue.field:
        return gettext("%(file)s, line %(line)s, field %(field)s: %(message)s") % values
    if issue.line is not None:
        return gettext("%(file)s, line %(line)s: %(message)s") % values
    if issue.field:
        return gettext("%(file)s, field %(field)s: %(message)s") % values
    return gettext("%(file)s: %(message)s") % values


def file_error_translated(exc: GenomicFileError) -> GenomicFileError:
    """``exc`` with its message and its list of problems in the active language."""
    texts = [issue_text(i) for i in exc.issues]
    more = len(texts) - 1
    message = texts[0]
    if more:
        message += " " + ngettext(
            "(%(n)d more error in the file)", "(%(n)d more errors in the file)", more
        ) % {"n": more}
    # Not copy.copy: the class is built from its issues, not from a message.
    out = type(exc).__new__(type(exc))
    out.__dict__.update(exc.__dict__)
    out.args = (message,)
    out.message = message
    out.extra = {**exc.extra, "issues": texts}
    return out


@contextmanager
def genomic_file_errors_translated() -> Iterator[None]:
    """Raise the file errors of the block again in the active language."""
    try:
        yield
    except GenomicFileError as exc:
        raise file_error_translated(exc) from exc
