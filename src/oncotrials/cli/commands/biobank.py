"""``oncotrials biobank``: chain-of-custody check, shipment manifests and SPREC codes.

``custody-check`` lists every specimen whose chain of custody has a gap (exit code 1 when there
is one, so that a nightly job can alert); ``manifest`` writes a shipment's CSV manifest;
``sprec`` derives the SPREC code of raw pre-analytical values without a database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from oncotrials.cli import django_setup
from oncotrials.cli.output import FormatOption, OutputFormat, command_errors, print_json, stdout

app = typer.Typer(
    help="Biobank: chain-of-custody check, shipment manifests, SPREC codes.",
    no_args_is_help=True,
)


@app.command("custody-check")
@command_errors
def custody_check_cmd(
    site: Annotated[str, typer.Option("--site", help="Only specimens of this site (code).")] = "",
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Report the gaps in each specimen's chain of custody (exit 1 when there is any)."""
    django_setup.setup()
    from oncotrials.apps.biobank.selectors import custody_check

    gaps = custody_check(user=None, site_code=site)
    if fmt is OutputFormat.json:
        print_json([{"label": g.label, "gaps": list(g.gaps)} for g in gaps])
    elif not gaps:
        stdout.print("Every chain of custody is whole.")
    else:
        table = Table("Specimen", "Gap")
        for g in gaps:
            for i, text in enumerate(g.gaps):
                table.add_row(g.label if i == 0 else "", text)
        stdout.print(table)
        stdout.print(f"{len(gaps)} specimen(s) with a gap.")
    if gaps:
        raise typer.Exit(code=1)


@app.command("manifest")
@command_errors
def manifest_cmd(
    reference: Annotated[str, typer.Argument(help="The shipment's reference.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write a shipment's manifest (CSV, one row per specimen)."""
    django_setup.setup()
    from oncotrials.apps.biobank.models import Shipment
    from oncotrials.apps.biobank.selectors import shipment_manifest_csv
    from oncotrials.core.errors import NotFoundError

    shipment = Shipment.objects.filter(reference=reference).first()
    if shipment is None:
        raise NotFoundError(f"No shipment {reference!r}; list them in the web application.")
    text = shipment_manifest_csv(shipment)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("sprec")
@command_errors
def sprec_cmd(
    specimen_type: Annotated[str, typer.Argument(help="plasma, serum, whole_blood, tissue_ffpe…")],
    container: Annotated[str, typer.Option(help="Primary tube, e.g. EDTA, SST.")] = "",
    precentrifugation_min: Annotated[int | None, typer.Option(help="Delay to spin (min).")] = None,
    precentrifugation_temp: Annotated[str, typer.Option(help="RT or 2-10.")] = "",
    centrifugations: Annotated[int | None, typer.Option(help="Number of spins.")] = None,
    procedure: Annotated[str, typer.Option(help="core_needle, fna, surgical…")] = "",
    warm_ischaemia_min: Annotated[int | None, typer.Option()] = None,
    cold_ischaemia_min: Annotated[int | None, typer.Option()] = None,
    fixative: Annotated[str, typer.Option(help="NBF, SNP, OCT, RNL…")] = "",
    fixation_hours: Annotated[float | None, typer.Option()] = None,
    storage: Annotated[str, typer.Option(help="MIABIS storage temperature, e.g. -60to-85.")] = "",
    spin: Annotated[
        list[str] | None,
        typer.Option(
            help="A centrifugation's settings 'temperature,force,duration,braking', e.g. "
            "'4 °C,1600 g,10 min,off'; give it twice for a second spin."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Derive the SPREC code of raw pre-analytical values."""
    from oncotrials.core.biobank.centrifugation import Spin, braking_value, spin_value
    from oncotrials.core.biobank.lineage import specimen_type_get
    from oncotrials.core.biobank.sprec import SprecInput, sprec_code
    from oncotrials.core.errors import ValidationError

    specimen_type_get(specimen_type)
    spins: list[Spin] = []
    for n, text in enumerate(spin or [], start=1):
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4 or n > 2:
            raise ValidationError(
                f"--spin {n}: give temperature,force,duration,braking (at most two spins); "
                f"got {text!r}.",
                field="spin",
            )
        spins.append(
            Spin(
                float(spin_value("temp_c", parts[0], f"spin {n} temperature")),
                float(spin_value("g", parts[1], f"spin {n} force")),
                float(spin_value("min", parts[2], f"spin {n} duration")),
                braking_value(parts[3], f"spin {n} braking") == "on",
            )
        )
    result = sprec_code(
        SprecInput(
            specimen_type=specimen_type,
            collection_procedure=procedure,
            warm_ischaemia_min=warm_ischaemia_min,
            cold_ischaemia_min=cold_ischaemia_min,
            fixative=fixative,
            fixation_hours=fixation_hours,
            container_type=container,
            precentrifugation_delay_min=precentrifugation_min,
            precentrifugation_temp=precentrifugation_temp,
            centrifugations=centrifugations,
            storage_temperature=storage,
            first_spin=spins[0] if spins else None,
            second_spin=spins[1] if len(spins) > 1 else None,
        )
    )
    if fmt is OutputFormat.json:
        print_json({"code": result.code, "elements": [list(e) for e in result.elements]})
        return
    stdout.print(result.code)
    for element, letters, meaning in result.elements:
        stdout.print(f"  {element:<22} {letters:<4} {meaning}")
