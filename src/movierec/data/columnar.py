"""Id columns as pandas Categoricals: int32 codes plus one string per distinct id.

At 25M ratings an object column of id strings costs gigabytes; a Categorical costs 4 bytes
a row plus its categories. These helpers build one without a Python loop over rows, from
integer ids (GroupLens files) or from Arrow string / dictionary columns (any CSV or Parquet).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["categorical_from_ints", "categorical_from_arrow", "categorical_from_values"]

_DENSE_LIMIT = 50_000_000  # ids up to this use a lookup table (O(n)); larger ones are sorted (np.unique)


def categorical_from_ints(ids: np.ndarray) -> pd.Categorical:
    """Integer ids as a Categorical whose categories are the ids' decimal strings, in numeric order.

    Example:
        >>> categorical_from_ints(np.array([30, 7, 30])).tolist()
        ['30', '7', '30']
    """
    ids = np.asarray(ids)
    if len(ids) and ids.min() >= 0 and ids.max() < _DENSE_LIMIT:
        present = np.zeros(int(ids.max()) + 1, dtype=bool)
        present[ids] = True
        uniques = np.flatnonzero(present)
        lookup = np.cumsum(present, dtype=np.int32) - 1
        codes = lookup[ids]
    else:
        uniques, codes = np.unique(ids, return_inverse=True)
        codes = codes.astype(np.int32)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques.astype(str), dtype=object), validate=False)


def categorical_from_arrow(column: pa.ChunkedArray | pa.Array) -> pd.Categorical:
    """A string or dictionary-encoded Arrow column as a Categorical with stripped string categories.

    Ids that differ only by surrounding spaces become one category ("a" and " a").
    """
    if pa.types.is_integer(column.type):
        return categorical_from_ints(column.to_numpy())
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if isinstance(column, pa.ChunkedArray):
        # dictionary_encode gives every chunk the same dictionary, which Arrow concatenates without re-hashing
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.string()).dictionary_encode()
    dictionary, codes = column.dictionary, column.indices.to_numpy(zero_copy_only=False)
    names = pd.Index(dictionary.cast(pa.string()).to_pylist(), dtype=object).str.strip()
    codes = codes.astype(np.int32, copy=False)
    if not names.is_unique:
        remap, uniques = pd.factorize(names)
        codes, names = remap.astype(np.int32)[codes], pd.Index(uniques, dtype=object)
    return pd.Categorical.from_codes(codes, categories=names, validate=False)


def categorical_from_values(values: pd.Series) -> pd.Categorical:
    """Any id column (strings, numbers, a Categorical) as a Categorical with string categories.

    Values are compared as the strings `astype(str)` gives, as the canonical tables always did.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        categorical = values.array
        if len(categorical) and categorical.codes.min() < 0:  # missing ids become "nan", as `astype(str)` writes them
            return categorical_from_values(pd.Series(np.asarray(categorical, dtype=object)).astype(str))
        categories = categorical.categories
        as_text = categories.astype(str).astype(object)
        if categories.dtype != object or not as_text.equals(categories):
            if as_text.is_unique:
                categorical = categorical.rename_categories(as_text)
            else:  # e.g. 1 and "1": merge them as strings
                return categorical_from_values(pd.Series(np.asarray(categorical).astype(str)))
        return categorical
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names = pd.Index(uniques).astype(str)
    if not names.is_unique:  # ids equal only as strings
        codes, names = pd.factorize(values.astype(str), use_na_sentinel=False)
        names = pd.Index(names)
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=names.astype(object), validate=False)
