"""HTTP routes: each module translates HTTP to calls on the serving objects and back."""
