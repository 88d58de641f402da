"""`make demo`: the whole product end to end on its embedded defaults."""
