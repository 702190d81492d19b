"""A pandas DataFrame as it comes: numbers at their own scale, a string
column, missing values.

`fit(frame, "target")` takes the target column's name. Each numeric column
is mean-imputed (with a missing-value indicator when the training split has
gaps) and normalized, each string column looked up and one-hot encoded,
all adapted on the training split only and inside the returned model, so
`predict` and the exported model take a frame's columns too.

    python examples/dataframe.py [--fast]
"""

import sys
import warnings

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer

import keras_nas

FAST = "--fast" in sys.argv

# Breast cancer's 30 raw features (0.001 to 4,000), a made-up clinic name
# and a few gaps.
frame = load_breast_cancer(as_frame=True).frame
rng = np.random.default_rng(0)
frame["clinic"] = rng.choice(["north", "south", "east"], len(frame))
frame.loc[rng.choice(len(frame), 20, replace=False), "mean area"] = np.nan
test = frame.sample(frac=0.2, random_state=0)
train = frame.drop(test.index)

search = keras_nas.NASSearch(
    max_trials=1 if FAST else 10, directory="nas_runs",
    project_name="dataframe", overwrite=True, seed=0,
    # A "clinic code" would be integers: name such columns as categories
    # with keras_nas.Preprocessing(categorical=["code"]).
)
search.fit(train, "target", epochs=2 if FAST else 20,
           verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
features = test.drop(columns="target")
print(f"test accuracy: {search.evaluate(test, 'target')[1]:.4f}")
print(f"P(benign) of the first test rows: {search.predict(features)[:3, 0]}")

# The exported model takes the columns by name. Keras warns, on loading,
# that its inputs' names (made safe for SavedModel signatures: no spaces)
# differ from the columns' names that key the dict; that is on purpose.
warnings.filterwarnings("ignore", message="When providing `inputs` as a dict")
search.export("cancer.keras")
model = keras.models.load_model("cancer.keras")
columns = {name: features[name].to_numpy() for name in features.columns}
print(model.predict(columns, verbose=0)[:3, 0])
