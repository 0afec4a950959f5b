"""The image-verification suite.

testcontainers reads these settings when it is first imported, so they are set here, before
any module of this package (or a script that uses it, like benchmarks/run.py) imports it:
no Ryuk (its image cannot be pulled here), and containers reached through ports published on
127.0.0.1, never a bridge address.
"""

import os

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
os.environ.setdefault("TC_HOST", "127.0.0.1")
