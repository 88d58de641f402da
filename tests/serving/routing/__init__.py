"""Tests of the routing package: online, batch assignment and recommendation."""
