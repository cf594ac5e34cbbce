"""Real-time fraud scoring of orders and payments (issue 6).

events → velocity features (``velocity``, ``features``) → LightGBM with calibrated
probabilities (``model``) → declarative rules (``rules``) → approve | review | decline with
reason codes (``decision``, ``service``). Labels arrive late (``labels``); evaluation is
time-ordered (``evaluation``); ``simulator`` generates a synthetic order stream with known
fraud patterns. This package imports no other capability.
"""
