"""What MLflow runs to build the logged model ("models from code"); only MLflow imports this file."""

from mlflow.models import set_model

from models.pyfunc import SalaryPyfunc

set_model(SalaryPyfunc())
