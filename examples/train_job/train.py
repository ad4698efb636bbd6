#!/usr/bin/python3
"""Trains an XGBoost classifier on a CSV file and writes an MLflow model directory.

The training step of examples/churn_release_slurm.yaml, run as a Cairn job (locally or on
Slurm). Standard library + numpy + xgboost only (Debian's python3-xgboost), so the compute
nodes need no virtualenv and no mlflow package:

  * params and validation metrics go to the job's own MLflow run through the REST API
    (MLFLOW_TRACKING_URI / MLFLOW_RUN_ID, which Cairn sets for every job);
  * the model directory (--out) holds MLmodel (xgboost and python_function flavors, a
    signature, and Cairn's `cairn.preprocessing` block so the categorical columns and the
    "No"/"Yes" classes score exactly as trained) and model.ubj. Cairn stores the job's outputs
    as run artifacts, so the directory becomes runs:/RUN/outputs/model for model.compare,
    model.register and endpoint.deploy.

The encoding is Cairn's (src/ml/tabular.h): numeric columns as numbers, categorical columns
as the index of the value in the sorted training categories (unseen → missing), missing
values as NaN left to XGBoost.
"""

import argparse
import csv
import json
import math
import os
import random
import sys
import time
import urllib.error
import urllib.request
import uuid

import numpy as np
import xgboost as xgb

MISSING = {"", "NA", "N/A", "NaN", "null", "NULL"}  # Cairn's CSV reader's missing markers


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="CSV file with a header row")
    p.add_argument("--target", required=True, help="the column to predict (two classes)")
    p.add_argument("--out", required=True, help="folder to write the model directory to")
    p.add_argument("--max-depth", type=int, default=4)
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--validation-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args()


def fail(message):
    print("error: " + message, file=sys.stderr)
    sys.exit(2)


# --- MLflow REST (https://mlflow.org/docs/latest/rest-api.html) --------------------------------

def mlflow_post(endpoint, body):
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri:
        return  # run by hand, outside a job: nothing to log to
    request = urllib.request.Request(
        uri.rstrip("/") + "/api/2.0/mlflow/" + endpoint,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except urllib.error.HTTPError as e:
        fail("MLflow %s: HTTP %d: %s" % (endpoint, e.code, e.read().decode(errors="replace")))
    except urllib.error.URLError as e:
        fail("MLflow %s: %s" % (endpoint, e.reason))


def log_batch(params=None, metrics=None, tags=None):
    run_id = os.environ.get("MLFLOW_RUN_ID", "")
    if not run_id:
        return
    now = int(time.time() * 1000)
    mlflow_post("runs/log-batch", {
        "run_id": run_id,
        "params": [{"key": k, "value": str(v)} for k, v in (params or {}).items()],
        "metrics": [{"key": k, "value": float(v), "timestamp": now, "step": 0}
                    for k, v in (metrics or {}).items()],
        "tags": [{"key": k, "value": str(v)} for k, v in (tags or {}).items()],
    })


# --- data ------------------------------------------------------------------------------------

def is_int(text):
    t = text[1:] if text[:1] in "+-" else text
    return t.isdigit()


def is_number(text):
    try:
        float(text)
        return text.strip() == text and text.lower() not in ("nan", "+nan", "-nan")
    except ValueError:
        return False


def load(path, target):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        fail("%s: no data rows" % path)
    header, rows = rows[0], [r for r in rows[1:] if r]
    if target not in header:
        fail("--target: no column '%s' in %s (columns: %s)" % (target, path, ", ".join(header)))
    for i, r in enumerate(rows):
        if len(r) != len(header):
            fail("%s: data row %d has %d fields, the header %d" % (path, i + 1, len(r), len(header)))
    return header, rows


def learn_feature(name, values):
    present = [v for v in values if v not in MISSING]
    if not present:
        fail("column '%s' has no value in the training rows" % name)
    feature = {"name": name, "has_missing": len(present) != len(values)}
    if all(is_int(v) for v in present):
        feature.update(kind="numeric", type="integer")
    elif all(is_number(v) for v in present):
        feature.update(kind="numeric", type="float")
    elif all(v.lower() in ("true", "false") for v in present):
        feature.update(kind="boolean", type="boolean")
    else:
        # Bytewise order, as Cairn sorts categories.
        feature.update(kind="categorical", type="string",
                       categories=sorted(set(present), key=lambda s: s.encode()))
    return feature


def encode(feature, value):
    if value in MISSING:
        return math.nan
    if feature["kind"] == "numeric":
        return float(value) if is_number(value) else math.nan
    if feature["kind"] == "boolean":
        return 1.0 if value.lower() == "true" else 0.0
    index = feature["_index"].get(value)
    return math.nan if index is None else float(index)


def mlflow_type(feature):
    if feature["type"] == "integer":
        return "double" if feature["has_missing"] else "long"
    return {"float": "double", "boolean": "boolean", "string": "string"}[feature["type"]]


# --- metrics ---------------------------------------------------------------------------------

def auc(labels, scores):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    positives = labels.sum()
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    return (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)


def main():
    args = parse_args()
    header, rows = load(args.data, args.target)
    t = header.index(args.target)
    labelled = [r for r in rows if r[t] not in MISSING]
    classes = sorted(set(r[t] for r in labelled), key=lambda s: s.encode())
    if len(classes) != 2:
        fail("--target %s: expected two classes, found %d (%s)"
             % (args.target, len(classes), ", ".join(classes[:10])))

    # A stratified split, seeded: the same data and seed give the same model.
    rng = random.Random(args.seed)
    train_rows, valid_rows = [], []
    for c in classes:
        members = [r for r in labelled if r[t] == c]
        rng.shuffle(members)
        cut = int(round(len(members) * args.validation_fraction))
        valid_rows += members[:cut]
        train_rows += members[cut:]

    names = [h for h in header if h != args.target]
    columns = [header.index(n) for n in names]
    features = [learn_feature(n, [r[c] for r in train_rows]) for n, c in zip(names, columns)]
    for f in features:
        if f["kind"] == "categorical":
            f["_index"] = {v: i for i, v in enumerate(f["categories"])}

    def matrix(part):
        return np.array([[encode(f, r[c]) for f, c in zip(features, columns)] for r in part],
                        dtype=np.float32)

    def labels(part):
        return np.array([classes.index(r[t]) for r in part], dtype=np.float32)

    dtrain = xgb.DMatrix(matrix(train_rows), label=labels(train_rows), feature_names=names)
    dvalid = xgb.DMatrix(matrix(valid_rows), label=labels(valid_rows), feature_names=names)
    params = {"objective": "binary:logistic", "eval_metric": "auc", "max_depth": args.max_depth,
              "eta": args.eta, "seed": args.seed, "nthread": len(os.sched_getaffinity(0))}
    log_batch(params={"max_depth": args.max_depth, "eta": args.eta,
                      "num_boost_round": args.rounds, "target": args.target,
                      "validation_fraction": args.validation_fraction, "seed": args.seed,
                      "train_rows": len(train_rows), "validation_rows": len(valid_rows)},
              tags={"cairn.trainer": "examples/train_job/train.py",
                    "xgboost.version": xgb.__version__})
    booster = xgb.train(params, dtrain, num_boost_round=args.rounds)

    y = labels(valid_rows)
    p = booster.predict(dvalid)
    eps = 1e-15
    metrics = {
        "auc": auc(y, p),
        "logloss": float(-np.mean(y * np.log(np.clip(p, eps, 1)) +
                                  (1 - y) * np.log(np.clip(1 - p, eps, 1)))),
        "accuracy": float(np.mean((p > 0.5) == (y == 1))),
    }
    log_batch(metrics=metrics)
    print("validation: " + ", ".join("%s=%.4f" % kv for kv in sorted(metrics.items())))

    # The model directory.
    os.makedirs(args.out, exist_ok=True)
    booster.save_model(os.path.join(args.out, "model.ubj"))
    target_type = "integer" if all(is_int(c) for c in classes) else "string"
    preprocessing = {
        "format_version": 1,
        "target": {"name": args.target, "task": "binary", "type": target_type,
                   "classes": classes},
        "features": [{k: v for k, v in f.items() if not k.startswith("_")} for f in features],
        "missing_values": "NaN, left to XGBoost",
        "categorical_encoding": "ordinal: index in the sorted training categories",
        "unseen_categories": "missing",
    }
    inputs = [{"type": mlflow_type(f), "name": f["name"], "required": True} for f in features]
    outputs = [{"type": "double", "required": True}]
    run_id = os.environ.get("MLFLOW_RUN_ID", "")
    created = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    # JSON is YAML: every value below is written as JSON, so strings stay strings.
    j = json.dumps
    mlmodel = "\n".join([
        "artifact_path: outputs/model",
        "cairn:",
        "  preprocessing: " + j(preprocessing),
        "  target: " + j(args.target),
        "  task: binary",
        "flavors:",
        "  python_function:",
        "    data: model.ubj",
        "    loader_module: mlflow.xgboost",
        "    python_version: " + j("%d.%d.%d" % sys.version_info[:3]),
        "  xgboost:",
        "    code: null",
        "    data: model.ubj",
        "    model_class: xgboost.core.Booster",
        "    model_format: ubj",
        "    xgb_version: " + j(xgb.__version__),
        "mlflow_version: " + j("2.10.0"),
        "model_uuid: " + j(uuid.uuid4().hex),
    ] + (["run_id: " + j(run_id)] if run_id else []) + [
        "signature:",
        "  inputs: " + j(j(inputs)),
        "  outputs: " + j(j(outputs)),
        "  params: null",
        "utc_time_created: " + j(created),
        "",
    ])
    with open(os.path.join(args.out, "MLmodel"), "w", encoding="utf-8") as f:
        f.write(mlmodel)
    with open(os.path.join(args.out, "requirements.txt"), "w", encoding="utf-8") as f:
        f.write("mlflow==2.10.0\nxgboost==%s\nnumpy\n" % xgb.__version__)
    print("model written to " + args.out)


if __name__ == "__main__":
    main()
