"""The analysis stage: the record of each trial, which ops matter
(importance), plots, the progress lines, and TensorBoard summaries."""
