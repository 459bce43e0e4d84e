"""SPREC codes derived from raw pre-analytical values (table in core/biobank/data/sprec.csv).

Fluid letters for type, container and pre-centrifugation checked against SPREC 2.0 Table 1
(Lehmann et al., Biopreserv Biobank 2012;10(4):366-374), kept by SPREC 3.0 (Betsou et al. 2018).
"""

from __future__ import annotations

from oncotrials.core.biobank.sprec import SprecInput, sprec_code, sprec_table


def test_double_spun_edta_plasma_spun_within_2_h_at_room_temperature() -> None:
    code = sprec_code(
        SprecInput(
            specimen_type="plasma",
            container_type="EDTA",
            precentrifugation_delay_min=90,
            precentrifugation_temp="RT",
            centrifugations=2,
            storage_temperature="-60to-85",
        )
    )
    # PL2 plasma double spun, PED potassium EDTA, A = RT < 2 h; centrifugation parameters are not
    # recorded (X), post-centrifugation temperature not recorded (X), B = cryotube -85..-60 °C.
    assert code.code == "PL2-PED-A-X-X-X-B"


def test_boundaries_are_half_open_and_temperature_selects_the_letter() -> None:
    def pre(minutes: int, temp: str) -> str:
        return sprec_code(
            SprecInput(
                specimen_type="serum",
                container_type="SST",
                centrifugations=1,
                precentrifugation_delay_min=minutes,
                precentrifugation_temp=temp,
            )
        ).code.split("-")[2]

    assert pre(119, "RT") == "A"
    assert pre(120, "RT") == "C"  # 2-4 h starts at 2 h
    assert pre(120, "2-10") == "D"
    assert pre(479, "2-10") == "F"


def test_unknown_not_applicable_and_other() -> None:
    blood = sprec_code(
        SprecInput(specimen_type="whole_blood", container_type="EDTA", centrifugations=0)
    )
    # Whole blood never centrifuged: pre-centrifugation, both centrifugations and
    # post-centrifugation do not apply; storage not recorded is unknown.
    assert blood.code == "BLD-PED-N-N-N-N-X"
    odd = sprec_code(
        SprecInput(
            specimen_type="plasma",
            container_type="GLASS",
            centrifugations=1,
            precentrifugation_delay_min=30,
        )
    )
    assert odd.code.split("-")[:3] == ["PL1", "ZZZ", "X"]  # other container; temperature unknown


def test_snap_frozen_core_biopsy_has_no_warm_ischaemia_nor_fixation_time() -> None:
    code = sprec_code(
        SprecInput(
            specimen_type="tissue_frozen",
            collection_procedure="core_needle",
            cold_ischaemia_min=8,
            fixative="SNP",
            storage_temperature="LN_vapour",
        )
    )
    assert code.code == "TIS-BPS-N-B-SNP-N-D"


def test_ffpe_resection_with_every_time_recorded() -> None:
    code = sprec_code(
        SprecInput(
            specimen_type="tissue_ffpe",
            collection_procedure="surgical",
            warm_ischaemia_min=25,
            cold_ischaemia_min=45,
            fixative="nbf",
            fixation_hours=30,
        )
    )
    assert code.code == "TIS-SRG-D-E-NBF-F-Z"
    missing = sprec_code(SprecInput(specimen_type="tissue_ffpe", collection_procedure="surgical"))
    assert missing.code == "TIS-SRG-X-X-XXX-X-Z"


def test_derivatives_are_not_coded_and_every_row_names_its_source() -> None:
    assert sprec_code(SprecInput(specimen_type="dna")).code == "N/A"
    assert {r.source for r in sprec_table()} <= {"v2-T1", "recalled"}
