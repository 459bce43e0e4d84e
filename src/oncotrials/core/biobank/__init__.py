"""Biobank science, framework-free: specimen units and lineage rules, timepoints relative to
treatment, the SPREC pre-analytical code, consent tiers and chain-of-custody checks.

The rules follow OpenSpecimen (``biospecimen/domain/Specimen.java`` and its error codes) and
MIABIS; the apps layer (``oncotrials.apps.biobank``) stores what these functions decide.
"""
