"""Tests of the routing evaluation package."""
