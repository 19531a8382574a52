"""Writes data.csv and graph.dot: DoWhy's linear data set (see SOURCE.md).

    python3 -m venv venv && venv/bin/pip install dowhy==0.14 numpy==2.4.6 pandas==3.1.1
    venv/bin/python make.py
"""

import numpy as np
import dowhy.datasets

np.random.seed(0)
d = dowhy.datasets.linear_dataset(
    beta=10,
    num_common_causes=3,
    num_instruments=1,
    num_samples=2000,
    treatment_is_binary=False,
)
d["df"].to_csv("data.csv", index=False)
with open("graph.dot", "w") as f:
    f.write(d["dot_graph"])
print("ate", d["ate"])
