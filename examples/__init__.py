"""Examples shipped with rlmodules: configs ``rlmodules train --config NAME`` takes by name
(``stateless_cartpole_lstm``), and ``python -m rlmodules.examples.quickstart``.
"""
