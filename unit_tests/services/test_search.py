"""SearchService with a fake provider: the business logic alone."""

import pytest

from app.errors import NotFoundError, UpstreamError
from app.schemas import MetObject, ObjectIdList
from app.services.search import NO_RESULTS, Artwork, SearchService

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeProvider:
    """Answers from dictionaries and records the calls it gets."""

    def __init__(self, hits: list[int] | None, objects: dict[int, MetObject]) -> None:
        self.hits = hits
        self.objects = objects
        self.calls: list[tuple[str, object]] = []

    async def search(self, title: str) -> ObjectIdList:
        self.calls.append(("search", title))
        return ObjectIdList(total=len(self.hits or []), object_ids=self.hits)

    async def get_object(self, object_id: int) -> MetObject:
        self.calls.append(("get_object", object_id))
        if object_id not in self.objects:
            raise NotFoundError("gone")
        return self.objects[object_id]


def work(object_id: int, image: str = "") -> MetObject:
    return MetObject(objectID=object_id, title=f"Work {object_id}", primaryImage=image)


async def test_search_by_title_returns_the_first_hit() -> None:
    provider = FakeProvider([2, 1], {1: work(1, "one.jpg"), 2: work(2, "two.jpg")})
    artwork = await SearchService(provider).search_by_title("work")
    assert artwork == Artwork(2, "Work 2", "two.jpg", ())
    assert provider.calls == [("search", "work"), ("get_object", 2)]


async def test_search_by_title_raises_not_found_without_hits() -> None:
    provider = FakeProvider(None, {})
    with pytest.raises(NotFoundError, match=NO_RESULTS):
        await SearchService(provider).search_by_title("nothing")
    assert provider.calls == [("search", "nothing")], "no object lookup without a hit"


async def test_search_by_title_raises_not_found_when_first_hit_is_gone() -> None:
    provider = FakeProvider([404], {})
    with pytest.raises(NotFoundError, match="object 404"):
        await SearchService(provider).search_by_title("ghost")


async def test_search_by_title_lets_upstream_errors_through() -> None:
    class BrokenProvider(FakeProvider):
        async def search(self, title: str) -> ObjectIdList:
            raise UpstreamError("down")

    with pytest.raises(UpstreamError, match="down"):
        await SearchService(BrokenProvider([], {})).search_by_title("x")
