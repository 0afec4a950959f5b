"""Budgets on the image's platform: as written natively, scaled by the table under emulation."""

from image_checks.engine import image_platform
from image_checks.plugin import Platform


def test_a_native_image_keeps_its_budgets_and_says_nothing() -> None:
    native = Platform("linux/amd64", "linux/amd64")
    assert not native.emulated
    assert (native.time(10), native.memory(128), native.note()) == (10, 128, "")


def test_an_emulated_image_scales_time_and_memory_and_says_so() -> None:
    arm = Platform("linux/arm64", "linux/amd64", time_factor=12, memory_factor=2)
    assert arm.emulated
    assert (arm.time(10), arm.memory(128)) == (120, 256)
    assert arm.note() == "; linux/arm64 emulated on linux/amd64: time budgets x12, memory x2"


def test_the_platform_is_read_from_the_image_config() -> None:
    assert image_platform({"Os": "linux", "Architecture": "arm64"}) == "linux/arm64"
    assert image_platform({}) == "linux/unknown"
