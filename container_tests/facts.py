"""What the suite measured (start-up, fault matrix, fuzzing, load, layers), for the gate.

Tests add to ``FACTS``; the session writes it to ``$CONTAINER_FACTS`` as JSON at the end, and
``deployment/summary.py`` reports it.
"""

FACTS: dict[str, object] = {}
