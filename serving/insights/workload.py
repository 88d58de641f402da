"""Who holds how much work now, and the latest routing decisions."""

from __future__ import annotations

from sqlalchemy import Connection, select

from data.contract import Role
from data.store.roster import list_reps
from data.store.schema import assignments
from serving.insights.responses import Period, RepLoad, RoleLoad, Routed, RoutedAssignment, Workload


def workload(connection: Connection) -> Workload:
    """Every rep's load against capacity; per role, the sums over its active reps.

    The load is what the store keeps now (reserved and not yet released), so
    the answer does not depend on a period.
    """
    reps = list_reps(connection)
    rows = [
        RepLoad(
            rep_id=r.rep_id,
            name=r.name,
            role=r.role,
            load=r.load,
            capacity=r.capacity,
            utilisation=r.load / r.capacity if r.capacity else None,
            active=r.active,
            available=r.available,
        )
        for r in reps
    ]
    by_role = []
    for role in Role:
        active = [r for r in reps if r.role == role.value and r.active]
        if active:
            by_role.append(
                RoleLoad(
                    role=role.value,
                    load=sum(r.load for r in active),
                    capacity=sum(r.capacity for r in active),
                )
            )
    return Workload(reps=rows, by_role=by_role)


def routed(connection: Connection, period: Period, limit: int) -> Routed:
    """The newest `limit` routing decisions made in the period, newest first."""
    query = (
        select(assignments)
        .where(assignments.c.assigned_at >= period.start, assignments.c.assigned_at < period.end)
        .order_by(assignments.c.assigned_at.desc(), assignments.c.id.desc())
        .limit(limit)
    )
    return Routed(
        assignments=[
            RoutedAssignment(
                kind=row.kind,
                subject_id=row.subject_id,
                rep_id=row.rep_id,
                policy=row.policy,
                propensity=row.propensity,
                objective=row.objective,
                explored=row.explored,
                assigned_at=row.assigned_at,
                runners_up=list(row.runners_up),
            )
            for row in connection.execute(query)
        ]
    )
