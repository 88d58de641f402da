"""Tests of the assignment policy package."""
