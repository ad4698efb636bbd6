#!/usr/bin/python3
"""Simulated application traffic for the demo: scores rows of a CSV file one request at a time
(MLflow dataframe_split, keep-alive connection) at a Cairn scoring URL, and prints what it saw.

  score_traffic.py URL CSV [--requests N] [--drop COLUMN] [--id-prefix P]
                   [--labels FILE --label-column COLUMN] [--loop --stop-file F]

Each request carries x-request-id PREFIX-N. With --labels, the ground truth of every answered
request (its row's --label-column, as the application learns it later) is written to FILE as
request_id,label lines: what `cairn monitor feedback` posts back. With --loop the rows are scored
again and again until N requests or until --stop-file exists.

Prints one JSON line: requests, answers by status, by deployment (x-cairn-deployment), and the
mean predicted value. Exits 1 when a request fails at the transport level.
"""
import argparse
import csv
import http.client
import json
import os
import sys
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("csv")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--drop", action="append", default=[], help="column not sent (the target)")
    parser.add_argument("--id-prefix", default="demo")
    parser.add_argument("--labels", help="write request_id,label of answered requests here")
    parser.add_argument("--label-column")
    parser.add_argument("--loop", action="store_true", help="cycle through the rows")
    parser.add_argument("--stop-file", help="with --loop: stop once this file exists")
    args = parser.parse_args()
    if args.labels and not args.label_column:
        parser.error("--labels needs --label-column")

    with open(args.csv, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if args.loop:
            rows = list(reader)
        else:
            rows = [row for _, row in zip(range(args.requests), reader)]
    if not rows:
        parser.error(f"{args.csv} has no rows")
    keep = [i for i, name in enumerate(header) if name not in args.drop]
    columns = [header[i] for i in keep]
    label_index = header.index(args.label_column) if args.label_column else None

    url = urllib.parse.urlsplit(args.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    statuses, deployments, total = {}, {}, 0.0
    labels = open(args.labels, "w", newline="") if args.labels else None
    if labels:
        labels.write("request_id,label\n")
    n = 0
    while n < args.requests:
        if args.stop_file and n % 20 == 0 and os.path.exists(args.stop_file):
            break
        row = rows[n % len(rows)]
        values = []
        for i in keep:
            cell = row[i]
            try:
                values.append(float(cell) if cell not in ("", "NA") else None)
            except ValueError:
                values.append(cell)
        request_id = f"{args.id_prefix}-{n}"
        body = json.dumps({"dataframe_split": {"columns": columns, "data": [values]}})
        conn.request("POST", url.path, body, {"content-type": "application/json",
                                              "x-request-id": request_id})
        response = conn.getresponse()
        answer = response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        deployment = response.getheader("x-cairn-deployment", "?")
        deployments[deployment] = deployments.get(deployment, 0) + 1
        if response.status == 200:
            total += float(json.loads(answer)["predictions"][0])
            if labels:
                labels.write(f"{request_id},{row[label_index]}\n")
        n += 1
    if labels:
        labels.close()
    ok = statuses.get(200, 0)
    print(json.dumps({"requests": n, "status": statuses, "deployments": deployments,
                      "mean_prediction": round(total / ok, 4) if ok else None}))


if __name__ == "__main__":
    try:
        main()
    except (OSError, http.client.HTTPException) as e:
        print(f"score_traffic: {e}", file=sys.stderr)
        sys.exit(1)
