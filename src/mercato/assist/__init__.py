"""The customer-service assistant: intents with out-of-scope detection, grounded answers, tools, handoff.

Does not import other capabilities (recommend, risk, …); it reads the shop's store and its own files.
"""
