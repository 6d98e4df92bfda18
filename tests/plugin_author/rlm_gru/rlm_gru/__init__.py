"""rlm-gru: a GRU encoder the default modules use when ``"rlm_gru.use_gru"`` is set."""
