#!/usr/bin/python3
"""Test fixtures for src/ml/scorer_test.cc, made with Debian's python3-xgboost (no mlflow needed).

  mlflow_xgboost_models.py make OUT_DIR DATA_DIR
      Trains three small models on /work/shared/data and writes each as mlflow.xgboost.log_model
      would: OUT_DIR/<name>/{MLmodel, model.<ext>} plus expected.json, XGBoost's own predictions
      for every row of the CSV it was trained on (the probability of class 1, per-class
      probabilities, or values), for the C++ scorer to agree with to 1e-6.
        binary_ubj        XGBClassifier, credit_data.csv, model.ubj, signature with "required"
        multiclass_json   XGBClassifier, penguins.csv, model.json, MLflow < 2.9 signature
        regression_xgb    xgboost.train, ames_housing.csv, model.xgb (XGBoost 1.7's legacy
                          binary format, which keeps no feature names), a signature
        regression_json_unsigned   the same booster as model.json without a signature (the
                          scorer reads the feature names the booster stores)

  mlflow_xgboost_models.py score MODEL_DIR MATRIX_CSV OUT_JSON
      Reads a model directory the way MLflow does — MLmodel with yaml.safe_load, the booster
      with the xgboost flavor's model_class — and writes what MLflow's loader sees and the
      booster's predictions for MATRIX_CSV (already encoded features, no header, "nan" missing).
"""
import csv
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

MISSING = {"", "NA", "N/A", "NaN", "null", "NULL"}


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def numeric_columns(header, rows, exclude):
    """Columns whose every non-missing value is a number; their types as MLflow infers them."""
    names, types = [], []
    for j, name in enumerate(header):
        if name in exclude:
            continue
        values = [r[j] for r in rows if r[j] not in MISSING]
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            continue
        is_int = all(n == int(n) and "." not in v for n, v in zip(numbers, values))
        missing = len(values) < len(rows)
        names.append(name)
        types.append("long" if is_int and not missing else "double")
    return names, types


def matrix(header, rows, names):
    index = [header.index(n) for n in names]
    return np.array([[math.nan if r[j] in MISSING else float(r[j]) for j in index] for r in rows],
                    dtype=np.float64)


def mlmodel(data, fmt, model_class, inputs, outputs, required=True):
    def specs(items):
        out = []
        for name, typ in items:
            spec = {"type": typ}
            if name is not None:
                spec["name"] = name
            if required:
                spec["required"] = True
            out.append(spec)
        return json.dumps(out)

    text = (
        "artifact_path: model\n"
        "flavors:\n"
        "  python_function:\n"
        f"    data: {data}\n"
        "    env:\n"
        "      conda: conda.yaml\n"
        "      virtualenv: python_env.yaml\n"
        "    loader_module: mlflow.xgboost\n"
        "    python_version: 3.11.2\n"
        "  xgboost:\n"
        "    code: null\n"
        f"    data: {data}\n"
        f"    model_class: {model_class}\n"
        f"    model_format: {fmt}\n"
        f"    xgb_version: {xgb.__version__}\n"
        "mlflow_version: 2.10.0\n"
        "model_uuid: 0c5c0f2b8e3a4b7f9d1e2a3b4c5d6e7f\n"
        "run_id: 5e8a4a2f0b1c4d6e8f9a0b1c2d3e4f50\n"
        "some_future_key: {nested: [1, 2]}\n"
    )
    if inputs is not None:
        text += ("signature:\n"
                 f"  inputs: '{specs(inputs)}'\n"
                 f"  outputs: '{specs(outputs)}'\n"
                 "  params: null\n")
    return text + "utc_time_created: '2024-02-01 10:11:12.123456'\n"


def write(dir_, name, text):
    with open(os.path.join(dir_, name), "w") as f:
        f.write(text)


def make(out, data):
    # Binary: credit scoring, numeric columns only, "bad" = 1.
    header, rows = read_csv(os.path.join(data, "credit_data.csv"))
    names, types = numeric_columns(header, rows, {"Status"})
    x = matrix(header, rows, names)
    y = np.array([1 if r[header.index("Status")] == "bad" else 0 for r in rows])
    model = xgb.XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.2,
                              tree_method="hist", random_state=0, n_jobs=1)
    model.fit(x, y)
    d = os.path.join(out, "binary_ubj")
    os.makedirs(d, exist_ok=True)
    model.save_model(os.path.join(d, "model.ubj"))
    write(d, "MLmodel", mlmodel("model.ubj", "ubj", "xgboost.sklearn.XGBClassifier",
                                list(zip(names, types)), [(None, "long")]))
    write(d, "expected.json", json.dumps({
        "csv": "credit_data.csv", "target": "Status",
        "predictions": [float(p) for p in model.predict_proba(x)[:, 1]]}))

    # Multiclass: penguins, numeric columns, classes in sorted order.
    header, rows = read_csv(os.path.join(data, "penguins.csv"))
    names, types = numeric_columns(header, rows, {"species"})
    x = matrix(header, rows, names)
    classes = sorted({r[header.index("species")] for r in rows})
    y = np.array([classes.index(r[header.index("species")]) for r in rows])
    model = xgb.XGBClassifier(n_estimators=30, max_depth=3, tree_method="hist", random_state=0,
                              n_jobs=1)
    model.fit(x, y)
    d = os.path.join(out, "multiclass_json")
    os.makedirs(d, exist_ok=True)
    model.save_model(os.path.join(d, "model.json"))
    write(d, "MLmodel", mlmodel("model.json", "json", "xgboost.sklearn.XGBClassifier",
                                list(zip(names, types)), [(None, "long")], required=False))
    write(d, "expected.json", json.dumps({
        "csv": "penguins.csv", "classes": classes,
        "predictions": [float(p) for p in model.predict_proba(x).reshape(-1)]}))

    # Regression: Ames house prices through the native API; feature names live in the booster.
    header, rows = read_csv(os.path.join(data, "ames_housing.csv"))
    names, types = numeric_columns(header, rows, {"Sale_Price"})
    x = matrix(header, rows, names)
    y = np.array([float(r[header.index("Sale_Price")]) for r in rows])
    dtrain = xgb.DMatrix(x, label=y, feature_names=names)
    booster = xgb.train({"max_depth": 4, "eta": 0.1, "tree_method": "hist", "nthread": 1,
                         "seed": 0}, dtrain, num_boost_round=60)
    d = os.path.join(out, "regression_xgb")
    os.makedirs(d, exist_ok=True)
    booster.save_model(os.path.join(d, "model.xgb"))
    write(d, "MLmodel", mlmodel("model.xgb", "xgb", "xgboost.core.Booster",
                                list(zip(names, types)), [(None, "float")]))
    expected = json.dumps({
        "csv": "ames_housing.csv", "target": "Sale_Price",
        "predictions": [float(p) for p in booster.predict(xgb.DMatrix(x, feature_names=names))]})
    write(d, "expected.json", expected)
    d = os.path.join(out, "regression_json_unsigned")
    os.makedirs(d, exist_ok=True)
    booster.save_model(os.path.join(d, "model.json"))
    write(d, "MLmodel", mlmodel("model.json", "json", "xgboost.core.Booster", None, None))
    write(d, "expected.json", expected)


def score(model_dir, matrix_csv, out_json):
    import importlib

    import yaml  # MLflow reads MLmodel with PyYAML's safe_load

    with open(os.path.join(model_dir, "MLmodel")) as f:
        meta = yaml.safe_load(f)
    flavor = meta["flavors"]["xgboost"]
    module, _, cls = flavor["model_class"].rpartition(".")
    model = getattr(importlib.import_module(module), cls)()
    model.load_model(os.path.join(model_dir, flavor["data"]))  # as mlflow.xgboost._load_model
    x = np.loadtxt(matrix_csv, delimiter=",", dtype=np.float32, ndmin=2)
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(x)
        p = p[:, 1] if p.shape[1] == 2 else p.reshape(-1)
    else:
        p = model.predict(x)
    cairn = meta["cairn"]
    features = cairn["preprocessing"]["features"]
    with open(out_json, "w") as f:
        json.dump({
            "predictions": [float(v) for v in p],
            "inputs": json.loads(meta["signature"]["inputs"]),
            "run_id": meta["run_id"],
            "utc_time_created": meta["utc_time_created"],
            "python_function_loader": meta["flavors"]["python_function"]["loader_module"],
            "classes": cairn["preprocessing"]["target"].get("classes"),
            "categories": {ft["name"]: ft["categories"] for ft in features if "categories" in ft},
            "has_missing_types": sorted({type(ft["has_missing"]).__name__ for ft in features}),
            "booster_feature_names": model.get_booster().feature_names,
        }, f)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
