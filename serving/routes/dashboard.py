"""The sales-operations dashboard page; its assets are mounted by the app."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from serving.dashboard import PAGE, asset

router = APIRouter(tags=["dashboard"], include_in_schema=False)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
"""The page loads only what this service serves: no asset or call can reach the internet."""


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    """The page; its data comes from the API, which applies its own access rules."""
    return HTMLResponse(
        asset(PAGE),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-cache",
        },
    )


@router.get("/dashboard/")
async def dashboard_slash() -> RedirectResponse:
    # Relative, so it stays under whatever prefix a proxy mounted the app at; the page's
    # relative URLs only resolve from /dashboard itself.
    return RedirectResponse("../dashboard", status_code=308)
