"""The data stage: input checks, the task (loss, head, metrics, objective)
that the labels imply, `tf.data` input, and the built-in data sets."""
