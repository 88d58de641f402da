"""Why a re-scoring job stopped, in one line a user can act on."""

from __future__ import annotations


class RescoreError(Exception):
    """A job that cannot run or finish; nothing was written."""


class InputError(RescoreError):
    """The input is missing, unreadable, empty, or lacks required columns."""


class MissingModelError(RescoreError):
    """Leads of a channel that has no model under the alias."""
