#!/usr/bin/python3
# Fixture for the server tests: the trainer's tiny model (tests/ref/train_fixture.py, random weights,
# 16 codes per SID layer) plus pid2sid tables in JSONL for its 48 items: video/ad pids 1000+i and
# product pids 5000+i (every third item), with the SIDs train_fixture.py gives them.
# usage: serve_fixture.py OUT_DIR [train_fixture.py flags, e.g. --dim 256 for a bigger model]
import json
import os
import subprocess
import sys

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([sys.executable, os.path.join(here, "train_fixture.py"), out, "--rows", "8"] + sys.argv[2:],
               check=True, stdout=subprocess.DEVNULL)
C, NI = 16, 48
sid = [[i % C, (i * 5 + 3) % C, (i * 7 + 1) % C] for i in range(NI)]
with open(os.path.join(out, "pid2sid.jsonl"), "w") as f:
    for i in range(NI):
        f.write(json.dumps({"pid": 1000 + i, "sid": sid[i]}) + "\n")
with open(os.path.join(out, "product_pid2sid.jsonl"), "w") as f:
    for i in range(0, NI, 3):
        f.write(json.dumps({"pid": 5000 + i, "sid": sid[(i * 7) % NI]}) + "\n")
