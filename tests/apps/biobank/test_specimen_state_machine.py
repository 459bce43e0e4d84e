"""A Hypothesis state machine over collect / aliquot / derive / consume / move / distribute /
dispose: after every step every invariant holds (``core.biobank.lineage.tree_violations``:
available within [0, initial], conservation between a parent and its children, aliquots inherit
and hold no more than their parent gave, depleted/distributed/disposed are states and gone
specimens hold no position), one specimen per position, the chain of custody has no gap, and
the database agrees with a plain model of what should have happened (a refused step changes
nothing). Runs on SQLite and, with DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from oncotrials.core.biobank.lineage import DERIVATIONS, IN_STOCK, SPECIMEN_TYPES
from oncotrials.core.errors import ConflictError, ValidationError

QTY = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(12), places=1)


def machine_for(bank: Any, collect: Any) -> type[RuleBasedStateMachine]:
    from oncotrials.apps.biobank import services as sv
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.biobank.selectors import custody_check, nodes_of
    from oncotrials.core.biobank.lineage import tree_violations

    admin = bank.unit.users["admin"]
    box3 = sv.container_create(
        site=bank.unit.main,
        kind="box",
        name="SM",
        parent=bank.rack,
        rows=2,
        columns=2,
        by=bank.tech,
    )

    class SpecimenMachine(RuleBasedStateMachine):
        specimens = Bundle("specimens")

        def __init__(self) -> None:
            super().__init__()
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            # model: pk -> [available, status, position]
            self.model: dict[int, list[Any]] = {}

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        def _expect(self, ok: bool, fn: Any, **kw: Any) -> Any:
            before = list(
                Specimen.objects.order_by("pk").values_list(
                    "pk", "available_quantity", "status", "row", "column"
                )
            )
            try:
                result = fn(**kw)
            except (ValidationError, ConflictError):
                assert not ok, f"{fn.__name__} refused a valid step"
                after = list(
                    Specimen.objects.order_by("pk").values_list(
                        "pk", "available_quantity", "status", "row", "column"
                    )
                )
                assert after == before, "a refused step wrote something"
                return None
            assert ok, f"{fn.__name__} accepted an invalid step"
            return result

        def _s(self, pk: int) -> Any:
            return Specimen.objects.get(pk=pk)

        @rule(target=specimens, blood=st.booleans(), q=QTY)
        def collect(self, blood: bool, q: Decimal) -> int:
            kw = (
                {"specimen_type": "whole_blood", "unit": "mL", "procedure": "blood_draw"}
                if blood
                else {}
            )
            s = collect(bank, quantity=q, **kw)
            self.model[s.pk] = [q, "available", None]
            return s.pk

        @rule(target=specimens, pk=specimens, count=st.integers(1, 3), q=QTY)
        def aliquot(self, pk: int, count: int, q: Decimal) -> int:
            av, status, _ = self.model[pk]
            ok = status in IN_STOCK and q * count <= av
            kids = self._expect(
                ok,
                sv.specimen_aliquot,
                parent=self._s(pk),
                count=count,
                quantity=q,
                unit=self._s(pk).unit,
                by=bank.tech,
            )
            if kids is None:
                return pk
            self.model[pk][0] = av - q * count
            self.model[pk][1] = "depleted" if self.model[pk][0] == 0 else status
            for k in kids:
                self.model[k.pk] = [q, "available", None]
            return kids[0].pk

        @rule(target=specimens, pk=specimens, q=QTY)
        def derive(self, pk: int, q: Decimal) -> int:
            s = self._s(pk)
            av, status, _ = self.model[pk]
            options = sorted(DERIVATIONS.get(s.specimen_type, ()))
            if not options:
                return pk
            child_type = options[0]
            unit = {"mass": "ng", "volume": "mL", "count": "cells"}[
                sorted(SPECIMEN_TYPES[child_type].dimensions)[0]
            ]
            ok = status in IN_STOCK and q <= av
            child = self._expect(
                ok,
                sv.specimen_derive,
                parent=s,
                specimen_type=child_type,
                consumed=q,
                consumed_unit=s.unit,
                quantity="100",
                unit=unit,
                by=bank.tech,
            )
            if child is None:
                return pk
            self.model[pk][0] = av - q
            self.model[pk][1] = "depleted" if self.model[pk][0] == 0 else status
            self.model[child.pk] = [Decimal(100), "available", None]
            return child.pk

        @rule(pk=specimens, q=QTY)
        def consume(self, pk: int, q: Decimal) -> None:
            av, status, _ = self.model[pk]
            ok = status in IN_STOCK and q <= av
            if (
                self._expect(
                    ok,
                    sv.specimen_consume,
                    specimen=self._s(pk),
                    quantity=q,
                    unit=self._s(pk).unit,
                    purpose="assay",
                    by=bank.tech,
                )
                is not None
            ):
                self.model[pk][0] = av - q
                self.model[pk][1] = "depleted" if self.model[pk][0] == 0 else status

        @rule(pk=specimens, row=st.integers(1, 2), column=st.integers(1, 2))
        def move(self, pk: int, row: int, column: int) -> None:
            _, status, _pos = self.model[pk]
            taken = any(p == (row, column) and k != pk for k, (_, _, p) in self.model.items())
            ok = status in IN_STOCK and not taken
            if (
                self._expect(
                    ok,
                    sv.specimen_store,
                    specimen=self._s(pk),
                    box=box3,
                    row=row,
                    column=column,
                    by=bank.tech,
                )
                is not None
            ):
                self.model[pk][2] = (row, column)

        @rule(pk=specimens)
        def distribute(self, pk: int) -> None:
            _, status, _ = self.model[pk]
            ok = status in IN_STOCK
            sh = self._expect(
                ok,
                sv.shipment_create,
                site=bank.unit.main,
                recipient="Partner",
                purpose="distribution_eu",
                specimens=[self._s(pk)],
                by=bank.tech,
            )
            if sh is not None:
                sv.shipment_send(shipment=sh, by=bank.tech)
                self.model[pk][1], self.model[pk][2] = "distributed", None

        @rule(pk=specimens)
        def dispose(self, pk: int) -> None:
            _, status, _ = self.model[pk]
            ok = status not in {"distributed", "disposed"}
            if (
                self._expect(
                    ok, sv.specimen_dispose, specimen=self._s(pk), reason="QC fail", by=bank.tech
                )
                is not None
            ):
                self.model[pk][1], self.model[pk][2] = "disposed", None

        @invariant()
        def invariants_hold(self) -> None:
            assert tree_violations(nodes_of(Specimen.objects.all())) == []
            rows = {s.pk: s for s in Specimen.objects.all()}
            assert set(rows) == set(self.model)  # nothing is ever deleted
            for pk, (av, status, pos) in self.model.items():
                s = rows[pk]
                assert (s.available_quantity, s.status) == (av, status)
                assert ((s.row, s.column) if s.box_id == box3.pk else None) == pos
            assert custody_check(user=admin) == []

    return SpecimenMachine


def test_every_invariant_holds_over_random_histories(bank: Any, collect: Any) -> None:
    machine = machine_for(bank, collect)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
