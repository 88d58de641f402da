"""The operational store: reps, leads, scores, assignments and outcomes (SQLAlchemy).

SQLite by default, PostgreSQL in production; the schema comes from the Alembic
migrations in `migrations/`, applied with `upgrade(url)`. Importing this
package connects to nothing: `Store(url)` creates the engine.
"""

from data.store.errors import ConflictError, ContradictionError, NotFoundError, StoreError
from data.store.migrate import current_revision, head_revision, upgrade
from data.store.store import Store
from data.store.store_records import (
    AssignmentIn,
    AssignmentKind,
    AssignmentRecord,
    CustomerIn,
    CustomerRecord,
    LeadRecord,
    OutcomeIn,
    OutcomeRecord,
    OutcomeResult,
    OutcomeType,
    RepIn,
    RepRecord,
    RunnerUp,
    ScoreIn,
    ScoreRecord,
)

__all__ = [
    "AssignmentIn",
    "AssignmentKind",
    "AssignmentRecord",
    "ConflictError",
    "ContradictionError",
    "CustomerIn",
    "CustomerRecord",
    "LeadRecord",
    "NotFoundError",
    "OutcomeIn",
    "OutcomeRecord",
    "OutcomeResult",
    "OutcomeType",
    "RepIn",
    "RepRecord",
    "RunnerUp",
    "ScoreIn",
    "ScoreRecord",
    "Store",
    "StoreError",
    "current_revision",
    "head_revision",
    "upgrade",
]
