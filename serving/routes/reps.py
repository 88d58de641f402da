"""The roster: who works which role, with what capacity, and whether available."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query, status
from starlette.concurrency import run_in_threadpool

from data.contract import Role
from data.store import RepIn, RepRecord
from serving.auth import ADMIN, READ
from serving.deps import StoreDep

router = APIRouter(prefix="/v1/reps", tags=["reps"])

RepId = Annotated[str, Path(min_length=1, max_length=128)]


@router.get("", summary="The roster", response_model=list[RepRecord], dependencies=[READ])
async def list_reps(
    store: StoreDep, role: Annotated[Role | None, Query(description="Only this role.")] = None
) -> list[RepRecord]:
    return await run_in_threadpool(store.list_reps, role)


@router.get(
    "/{rep_id}",
    summary="One rep",
    response_model=RepRecord,
    dependencies=[READ],
    responses={status.HTTP_404_NOT_FOUND: {"description": "The rep is not in the roster."}},
)
async def get_rep(store: StoreDep, rep_id: RepId) -> RepRecord:
    rep = await run_in_threadpool(store.get_rep, rep_id)
    if rep is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"rep_id '{rep_id}' is not in the roster")
    return rep


@router.put(
    "/{rep_id}", summary="Add or update a rep", response_model=RepRecord, dependencies=[ADMIN]
)
async def put_rep(store: StoreDep, rep_id: RepId, rep: Annotated[RepIn, Body()]) -> RepRecord:
    """Role, capacity, availability, territory; the current load is kept."""
    if rep.rep_id != rep_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "loc": ["body", "rep_id"],
                    "type": "value_error",
                    "msg": f"rep_id '{rep.rep_id}' does not match the path's '{rep_id}'",
                }
            ],
        )
    return await run_in_threadpool(store.put_rep, rep)
