"""The MLflow pyfunc face of the bundle: loads once, delegates every prediction to SalaryModel.

It is logged as MLflow "models from code": MLflow stores the file `CODE_FILE` and runs it when the
model loads, instead of unpickling a Python object; the bundle itself is plain files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

from features.schema import EXAMPLE_RECORD, JOB_RECORD_FIELDS
from models.bundle import SalaryModel

# The file MLflow stores and runs to build the model (`python_model=` of `mlflow.pyfunc.log_model`).
CODE_FILE = Path(__file__).with_name("pyfunc_code.py")
_FIELD_TYPES = {
    "years_experience": DataType.double,
    "remote_ratio": DataType.double,
    "company_employees": DataType.double,  # an integer, but missing values make pandas columns float
    "work_year": DataType.double,  # a year, but a batch where some rows lack one is a float column
}


class SalaryPyfunc(PythonModel):
    """Rows with JobRecord columns in (any may be missing), one row of USD quantiles out."""

    def load_context(self, context: Any) -> None:
        """Load the bundle folder logged as the `bundle` artifact."""
        self.model = SalaryModel.load(Path(context.artifacts["bundle"]))

    # MLflow validates predict's type hints against the signature, so this one stays unannotated.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        """Quantiles in USD per year for each input row, as a DataFrame with p10..p90 columns."""
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
        for row in records:
            row["skills"] = skill_list(row.get("skills"))
        values = self.model.predict(records, num_threads=1)
        return pd.DataFrame(values, columns=self.model.quantile_names)


def skill_list(value: Any) -> list[str] | None:
    """A batch cell's skills as a list: from a list, an array or comma/semicolon text; else none."""
    if isinstance(value, np.ndarray | list | tuple):
        return [str(s) for s in value]
    if isinstance(value, str):
        return [s.strip() for s in value.replace(";", ",").split(",") if s.strip()]
    return None


def signature(quantile_names: list[str]) -> ModelSignature:
    """JobRecord columns in (all optional), quantile columns out."""
    inputs: list[Any] = []
    for name in JOB_RECORD_FIELDS:
        if name == "skills":
            # Any: MLflow refuses NaN in an Array column, and pandas puts NaN where a row of a batch has
            # no skills; predict reads lists, arrays and "a, b" text and treats the rest as none.
            inputs.append(ColSpec(AnyType(), name, required=False))
        else:
            inputs.append(ColSpec(_FIELD_TYPES.get(name, DataType.string), name, required=False))
    outputs: list[Any] = [ColSpec(DataType.double, q) for q in quantile_names]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_example() -> pd.DataFrame:
    """The example shown in the MLflow UI and used to validate the logged model."""
    return pd.DataFrame([EXAMPLE_RECORD])
