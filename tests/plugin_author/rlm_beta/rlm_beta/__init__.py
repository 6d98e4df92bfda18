"""rlm-beta: a Beta distribution scaled to a bounded Box, used when ``"rlm_beta.use_beta"``
is set, with the numpy sampler OnnxPolicy explores with."""
