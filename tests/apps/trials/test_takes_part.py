"""A trial says whether a site takes part in it, from its sites when they were read with it."""

from __future__ import annotations

from django.db import connection
from django.db.models import prefetch_related_objects
from django.test.utils import CaptureQueriesContext

from oncotrials.apps.trials.models import Trial


def test_takes_part_reads_the_sites_or_the_prefetch_with_the_same_answer(unit):
    shared = Trial.objects.get(pk=unit.trial_shared.pk)
    main_only = Trial.objects.get(pk=unit.trial_main.pk)
    with CaptureQueriesContext(connection) as unread:
        answers = [shared.takes_part(unit.partner.pk), main_only.takes_part(unit.partner.pk)]
    assert answers == [True, False]
    assert len(unread) == 2
    prefetch_related_objects([shared, main_only], "trial_sites")
    with CaptureQueriesContext(connection) as read:
        assert [shared.takes_part(unit.partner.pk), main_only.takes_part(unit.partner.pk)] == [
            True,
            False,
        ]
        assert main_only.takes_part(unit.main.pk)
    assert len(read) == 0
