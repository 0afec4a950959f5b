"""This service's own checks: search end to end through a stand-in upstream, the fault
matrix, schema fuzzing, load and its settings. A team adopting the suite for another service
deletes or replaces this folder and ``[tool.service-checks]``."""
