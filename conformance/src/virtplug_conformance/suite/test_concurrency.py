"""Concurrency: parallel defines of distinct domains all succeed; of one name, exactly one."""

from __future__ import annotations

import threading

from virtplug import ErrorCode, VirtError
from virtplug.models import new_uuid
from virtplug.records import evolve
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers

N_DISTINCT = 8
K_SAME = 6


def _parallel(count: int, work: object) -> list[BaseException | None]:
    barrier = threading.Barrier(count)
    results: list[BaseException | None] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)  # type: ignore[operator]
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@covers(positive=["domain.define"])
def test_parallel_distinct_defines(vp: Case) -> None:
    """N threads defining N distinct domains on one connection all succeed."""
    names = [vp.name("dom") for _ in range(N_DISTINCT)]
    for name in names:
        vp.track_domain(name)
    results = _parallel(N_DISTINCT, lambda i: vp.conn.define_domain(vp.domain_xml(names[i])))
    failed = [f"{names[i]}: {exc!r}" for i, exc in enumerate(results) if exc is not None]
    vp.check(
        not failed, f"parallel defines of distinct domains failed: {failed}", op="domain.define"
    )
    listed = {d.name: d.uuid for d in vp.conn.list_domains()}
    missing = [n for n in names if n not in listed]
    vp.check(not missing, f"parallel defines lost domains: {missing}", op="domain.define")
    uuids = [listed[n] for n in names]
    vp.check(
        len(set(uuids)) == len(uuids), "parallel defines gave shared UUIDs", op="domain.define"
    )


@covers(negative=["domain.define"])
def test_parallel_defines_of_one_name(vp: Case) -> None:
    """K threads defining one name with K UUIDs: exactly one wins, the rest OPERATION_FAILED."""
    name = vp.name("dom")
    vp.track_domain(name)
    base = vp.domain_config(name)
    configs = [evolve(base, uuid=new_uuid()) for _ in range(K_SAME)]
    results = _parallel(K_SAME, lambda i: vp.conn.define_domain(configs[i]))
    winners = [i for i, exc in enumerate(results) if exc is None]
    vp.check(
        len(winners) == 1,
        f"{len(winners)} of {K_SAME} concurrent defines of one name with different UUIDs "
        f"succeeded, expected exactly 1",
        op="domain.define",
    )
    wrong = [
        repr(exc)
        for exc in results
        if exc is not None
        and not (isinstance(exc, VirtError) and exc.code == ErrorCode.OPERATION_FAILED)
    ]
    vp.check(
        not wrong,
        f"losing concurrent defines raised {wrong}, not OPERATION_FAILED",
        op="domain.define",
    )
    if winners:
        got = vp.conn.lookup_domain(name).uuid
        vp.check(
            got == configs[winners[0]].uuid,
            "the surviving domain's UUID is not the winner's",
            op="domain.define",
        )
