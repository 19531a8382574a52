# DoWhy's introductory gcm example (its user guide, "Introduction to
# DoWhy's GCM"), as written there except for the import: switching
# between DoWhy and causalgrad is this one line.
import networkx as nx
import numpy as np
import pandas as pd

from causalgrad import gcm

np.random.seed(0)
X = np.random.normal(loc=0, scale=1, size=1000)
Y = 2 * X + np.random.normal(loc=0, scale=1, size=1000)
Z = 3 * Y + np.random.normal(loc=0, scale=1, size=1000)
data = pd.DataFrame(data=dict(X=X, Y=Y, Z=Z))

causal_model = gcm.InvertibleStructuralCausalModel(nx.DiGraph([("X", "Y"), ("Y", "Z")]))  # X -> Y -> Z
gcm.auto.assign_causal_mechanisms(causal_model, data)
gcm.fit(causal_model, data)

samples = gcm.interventional_samples(causal_model, {"Y": lambda y: 2.34}, num_samples_to_draw=1000)
print(samples.head())

counterfactuals = gcm.counterfactual_samples(
    causal_model, {"X": lambda x: 2}, observed_data=pd.DataFrame(data=dict(X=[0.5], Y=[1.5], Z=[4.5]))
)
print(counterfactuals)

ace = gcm.average_causal_effect(
    causal_model,
    "Z",
    interventions_alternative={"X": lambda x: 1},
    interventions_reference={"X": lambda x: 0},
    num_samples_to_draw=1000,
)
print(ace)

ace_median, ace_interval = gcm.confidence_intervals(
    gcm.fit_and_compute(
        gcm.average_causal_effect,
        causal_model,
        bootstrap_training_data=data,
        target_node="Z",
        interventions_alternative={"X": lambda x: 1},
        interventions_reference={"X": lambda x: 0},
        num_samples_to_draw=1000,
    ),
    num_bootstrap_resamples=10,
)
print(ace_median, ace_interval)
