"""The analysis stage: the record of each trial, which ops matter
(importance), plots, the progress lines, TensorBoard summaries, and the
greedy selection of an ensemble of the trained models."""
