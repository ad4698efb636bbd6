#!/usr/bin/python3
"""The demo's closing table, read from the workspace's APIs (nothing here is computed by the demo
itself): model versions with the data they were trained on, metrics before and after the
retraining, the drift the monitor found, the endpoint's traffic, and the lineage of the model
that serves now.

  demo_summary.py RUN1 RUN2 T_EXISTING T_MIXED T_AFTER     (CAIRN_TRACKING_URI set)
"""
import json
import os
import sys
import urllib.parse
import urllib.request

BASE = os.environ["CAIRN_TRACKING_URI"].rstrip("/")


def get(path, **query):
    url = BASE + path + ("?" + urllib.parse.urlencode(query) if query else "")
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def table(headers, rows):
    rows = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)))


def num(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def live(since, until):
    m = get("/api/v1/endpoints/churn/monitor/metrics", since=since, until=until)["live"]
    return m


def main():
    run1, run2, t_existing, t_mixed, t_after = sys.argv[1:6]
    now = str(int(t_after) + 10**9)

    print("model versions")
    model = get("/api/2.0/mlflow/registered-models/get", name="churn")["registered_model"]
    aliases = {}
    for a in model.get("aliases", []):
        aliases.setdefault(str(a["version"]), []).append(a["alias"])
    versions = get("/api/2.0/mlflow/model-versions/search", filter="name='churn'")
    rows = []
    runs = {}
    for v in sorted(versions.get("model_versions", []), key=lambda v: int(v["version"])):
        run = get("/api/2.0/mlflow/runs/get", run_id=v["run_id"])["run"]
        runs[v["version"]] = run
        tags = {t["key"]: t["value"] for t in run["data"].get("tags", [])}
        metrics = {m["key"]: m["value"] for m in run["data"].get("metrics", [])}
        vtags = {t["key"]: t["value"] for t in v.get("tags", [])}
        auc = next((metrics[k] for k in ("valid_auc", "validation_auc", "auc") if k in metrics), None)
        rows.append([v["version"], ",".join(aliases.get(v["version"], [])) or "-",
                     f'{tags.get("cairn.dataset.name")}@{tags.get("cairn.dataset.version")}',
                     num(auc), vtags.get("cairn.pipeline.run_id", "-")])
    table(["VERSION", "ALIASES", "TRAINED ON", "VALID AUC", "PIPELINE RUN"], rows)

    print("\ncomparison before registering (rows neither model trained on)")
    rows = []
    for run_id in (run1, run2):
        if not run_id:
            continue
        r = get(f"/api/v1/pipelines/runs/{run_id}")
        r = r.get("run", r)
        steps = {s["step_id"]: s for s in r["steps"]}
        out = steps.get("compare", {}).get("outputs", {})
        params = r.get("params", {})
        auc = lambda k: num(float(out[k])) if out.get(k) else "-"
        rows.append([run_id[:12], params.get("trigger", "manual"), auc("candidate_auc"),
                     auc("baseline_auc"), out.get("rows_kept", "-"),
                     out.get("better", "-"), r["status"]])
    table(["PIPELINE RUN", "STARTED BY", "CANDIDATE AUC", "CHAMPION AUC", "ROWS", "BETTER",
           "STATUS"], rows)

    print("\nlive metrics from the ground truth posted back (matched by x-request-id)")
    rows = []
    for label, since, until in (("existing customers, first champion", t_existing, t_mixed),
                                ("70 % new customers, first champion", t_mixed, t_after),
                                ("70 % new customers, what serves now", t_after, now)):
        m = live(since, until)
        v = m.get("metrics", {})
        rows.append([label, m.get("matched"), num(v.get("auc")), num(v.get("accuracy")),
                     num(v.get("log_loss"))])
    table(["TRAFFIC", "LABELLED", "AUC", "ACCURACY", "LOG LOSS"], rows)

    print("\ndrift reports (live inputs against the serving model's training data)")
    reports = get("/api/v1/endpoints/churn/monitor/reports", limit=10).get("reports", [])
    rows = []
    for rep in reversed(reports):
        s = rep.get("summary", {})
        top = sorted((c for c in rep.get("columns", []) if c.get("drifted")),
                     key=lambda d: -(d.get("score") or 0))
        rows.append([rep["report_id"][:12], rep.get("baseline"), rep.get("rows"),
                     f'{s.get("drifted")}/{s.get("counted")}', num(s.get("share"), 2),
                     "yes" if s.get("dataset_drift") else "no",
                     ", ".join(f'{d["column"]} {d["test"]} {num(d.get("score"), 2)}'
                               for d in top[:3]) or "-"])
    table(["REPORT", "BASELINE", "ROWS", "DRIFTED", "SHARE", "DRIFT", "STRONGEST"], rows)

    print("\nendpoint churn")
    ep = get("/api/v1/endpoints/churn")
    ep = ep.get("endpoint", ep)
    rows = []
    for d in ep.get("deployments", []):
        rows.append([d.get("name"), d.get("model_uri"), d.get("traffic", 0), d.get("mirror", 0)])
    table(["DEPLOYMENT", "MODEL", "TRAFFIC %", "MIRROR %"], rows)

    champion = next((v for v, a in aliases.items() if "champion" in a), None)
    if champion:
        run = runs[champion]
        tags = {t["key"]: t["value"] for t in run["data"].get("tags", [])}
        print(f"\nlineage of models:/churn@champion (version {champion})")
        print(f'  data      {tags.get("cairn.dataset.name")}@{tags.get("cairn.dataset.version")}'
              f'  digest {tags.get("cairn.dataset.digest", "")[:16]}…  file {tags.get("cairn.dataset.file")}')
        print(f'  run       {run["info"]["run_id"]}  (experiment {run["info"]["experiment_id"]})')
        print(f'  command   {tags.get("cairn.command", tags.get("mlflow.source.name", "-"))}')
        parent = tags.get("mlflow.parentRunId")
        if parent:
            print(f"  pipeline  parent run {parent}")
        for run_id in (run2, run1):
            if not run_id:
                continue
            r = get(f"/api/v1/pipelines/runs/{run_id}")
            r = r.get("run", r)
            steps = {s["step_id"]: s for s in r["steps"]}
            reg = steps.get("register", {}).get("outputs", {})
            if reg.get("version") == champion:
                gate = steps.get("approve", {}).get("outputs", {})
                print(f'  release   pipeline run {run_id} ({r["params"].get("trigger", "manual")}:'
                      f' {r["params"].get("reason", "")})')
                print(f'  approved  by {gate.get("approved_by", "-")}: {gate.get("comment", "")}')
                break


if __name__ == "__main__":
    main()
