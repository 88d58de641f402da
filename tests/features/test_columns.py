"""Column adapters: every typing of the same values gives the same `Columns`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from features.columns import from_frame, map_distinct
from features.derivations import function_of_title, title_function
from features.lead_features import LEAD_FIELD_TYPES, default_spec


def test_map_distinct_equals_calling_the_function_on_every_value() -> None:
    values = np.array(["VP Sales", None, "CEO", "VP Sales", "Intern", None], dtype=object)
    expected = np.array([function_of_title(v) for v in values], dtype=object)
    np.testing.assert_array_equal(title_function(values), expected)
    lengths = map_distinct(values, lambda v: math.nan if v is None else len(v), np.float64)
    np.testing.assert_array_equal(lengths, [8, np.nan, 3, 8, 6, np.nan])
    assert map_distinct(np.array([], dtype=object), str, object).shape == (0,)


def test_arrow_backed_text_gives_the_object_columns() -> None:
    leads = generate(GeneratorConfig(leads=1_000, seed=4))["leads"]
    table = pa.Table.from_pandas(leads, preserve_index=False)
    mapper = {pa.string(): pd.ArrowDtype(pa.string()), pa.bool_(): pd.BooleanDtype()}.get
    arrow = table.to_pandas(types_mapper=mapper)
    plain = table.to_pandas(ignore_metadata=True)  # numpy floats and objects
    expected = from_frame(leads, LEAD_FIELD_TYPES)
    for frame in (arrow, plain):
        got = from_frame(frame, LEAD_FIELD_TYPES)
        for name in LEAD_FIELD_TYPES:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    spec = default_spec("inbound")
    fitted = spec.fit(from_frame(leads, spec.input_fields))
    np.testing.assert_array_equal(
        fitted.transform(from_frame(arrow, spec.input_fields)),
        fitted.transform(from_frame(leads, spec.input_fields)),
    )


def test_map_distinct_gives_the_same_values_for_few_and_many_rows() -> None:
    from features.columns import SMALL, map_distinct

    values = np.array(["a", None, "b", "a", np.nan] * (SMALL // 2), dtype=object)

    def length(v: object) -> float:
        return -1.0 if v is None else float(len(str(v)))

    many = map_distinct(values, length, np.float64)
    few = np.concatenate(
        [map_distinct(values[i : i + 5], length, np.float64) for i in range(0, len(values), 5)]
    )
    np.testing.assert_array_equal(many, few)
    assert few[1] == -1.0 and few[4] == -1.0
