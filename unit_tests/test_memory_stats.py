"""Memory in use is read the way ``docker stats`` reads it, under cgroup v1 and v2 alike."""

from container_tests.load import working_set


def test_cgroup_v1_subtracts_total_inactive_file() -> None:
    stats = {"usage": 100, "stats": {"total_inactive_file": 30, "inactive_file": 5}}
    assert working_set(stats) == 70


def test_cgroup_v2_subtracts_inactive_file() -> None:
    assert working_set({"usage": 100, "stats": {"inactive_file": 30}}) == 70


def test_no_usage_reported_is_no_sample() -> None:
    assert working_set({}) is None
