"""The space stage: `SearchSpace` (what may be proposed), each candidate's
plan from shape rules alone (validity, params, FLOPs), the builder that
compiles an op list into a `keras.Sequential`, and latency measurement."""
