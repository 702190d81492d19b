"""The engine stage: the Keras Tuner hypermodel and tuner that build, train
and score each candidate, their callbacks, how failures are sorted, and the
parallel execution of trials."""
