"""The engine stage: the Keras Tuner hypermodel and tuner that build, train
and score each candidate, their callbacks, how failures are sorted, and the
two engines that run trials in parallel: Keras Tuner's chief/worker
processes on one machine (`parallel`), and Ray tasks on a machine or a
cluster (`ray_engine`, `ray_worker`, settings in `ray_options`; our oracles
inside a user's own Ray Tune in `ray_tune`). The front only picks one."""
