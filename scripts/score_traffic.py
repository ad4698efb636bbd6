#!/usr/bin/python3
"""Simulated application traffic for the demo: scores rows of a CSV file one request at a time
(MLflow dataframe_split, keep-alive connection) at a Cairn scoring URL, and prints what it saw.

  score_traffic.py URL CSV [--requests N] [--drop COLUMN]

Prints one JSON line: requests, answers by status, by deployment (x-cairn-deployment), and the
mean predicted value. Exits 1 when a request fails at the transport level.
"""
import argparse
import csv
import http.client
import json
import sys
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("csv")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--drop", action="append", default=[], help="column not sent (the target)")
    args = parser.parse_args()

    with open(args.csv, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [row for _, row in zip(range(args.requests), reader)]
    keep = [i for i, name in enumerate(header) if name not in args.drop]
    columns = [header[i] for i in keep]

    url = urllib.parse.urlsplit(args.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    statuses, deployments, total = {}, {}, 0.0
    for n, row in enumerate(rows):
        values = []
        for i in keep:
            cell = row[i]
            try:
                values.append(float(cell) if cell not in ("", "NA") else None)
            except ValueError:
                values.append(cell)
        body = json.dumps({"dataframe_split": {"columns": columns, "data": [values]}})
        conn.request("POST", url.path, body, {"content-type": "application/json",
                                              "x-request-id": f"demo-{n}"})
        response = conn.getresponse()
        answer = response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        deployment = response.getheader("x-cairn-deployment", "?")
        deployments[deployment] = deployments.get(deployment, 0) + 1
        if response.status == 200:
            total += float(json.loads(answer)["predictions"][0])
    ok = statuses.get(200, 0)
    print(json.dumps({"requests": len(rows), "status": statuses, "deployments": deployments,
                      "mean_prediction": round(total / ok, 4) if ok else None}))


if __name__ == "__main__":
    try:
        main()
    except (OSError, http.client.HTTPException) as e:
        print(f"score_traffic: {e}", file=sys.stderr)
        sys.exit(1)
