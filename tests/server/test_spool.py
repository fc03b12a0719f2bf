"""The spool on its own: append, read, commit, recovery after a torn write, group commit."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from journeykit.server.spool import FRAME, Position, Spool


def _all(spool: Spool, start: Position | None = None) -> tuple[list[bytes], Position]:
    frames, end = spool.read(start or spool.committed, max_bytes=1 << 30)
    return [f.payload for f in frames], end


def test_append_read_commit_and_reopen(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.start()
    for i in range(5):
        spool.append_sync(f"record {i}".encode())
    got, _ = _all(spool)
    assert got == [f"record {i}".encode() for i in range(5)]
    frames, _ = spool.read(spool.committed)
    spool.commit(frames[2].end)  # the first three are loaded
    spool.close()
    again = Spool(tmp_path)
    got, _ = _all(again)
    assert got == [b"record 3", b"record 4"]
    again.close()


def test_torn_tail_is_cut_and_acknowledged_records_survive(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.start()
    spool.append_sync(b"acknowledged 1")
    spool.append_sync(b"acknowledged 2")
    segment = spool._path(spool.durable.segment)
    spool.close()
    # a crash in the middle of a write: half a header, or a frame with a wrong checksum
    with segment.open("ab") as fh:
        fh.write(FRAME.pack(100, 1234) + b"only part of the payload")
    again = Spool(tmp_path)
    again.start()
    assert segment.stat().st_size == 2 * FRAME.size + len(b"acknowledged 1") * 2
    again.append_sync(b"after restart")
    got, _ = _all(again)
    assert got == [b"acknowledged 1", b"acknowledged 2", b"after restart"]
    again.close()


def test_segments_roll_and_used_ones_are_deleted(tmp_path: Path):
    spool = Spool(tmp_path, segment_bytes=100)
    spool.start()
    for i in range(10):
        spool.append_sync(b"x" * 40 + str(i).encode())
    assert len(list(tmp_path.glob("*.seg"))) >= 4
    frames, end = spool.read(spool.committed, max_bytes=1 << 30)
    assert len(frames) == 10
    spool.commit(end)
    assert len(list(tmp_path.glob("*.seg"))) == 1  # only the one being written
    assert spool.backlog_bytes() == 0
    spool.close()


def test_reads_are_bounded_and_resume(tmp_path: Path):
    spool = Spool(tmp_path, segment_bytes=300)
    spool.start()
    for i in range(20):
        spool.append_sync(b"%03d" % i + b"y" * 50)
    position, seen = spool.committed, []
    while True:
        frames, position = spool.read(position, max_bytes=120)
        if not frames:
            break
        assert len(frames) <= 3
        seen.extend(f.payload[:3] for f in frames)
    assert seen == [b"%03d" % i for i in range(20)]
    spool.close()


def test_group_commit_shares_flushes(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.start()

    async def many() -> None:
        await asyncio.gather(*(spool.append(b"r%d" % i) for i in range(200)))

    # a fresh thread: another test in this process may have left an event loop running here
    worker = threading.Thread(target=asyncio.run, args=(many(),))
    worker.start()
    worker.join()
    assert spool.appended_records == 200
    assert spool.flushes < 100  # concurrent appends went to disk together
    got, _ = _all(spool)
    assert sorted(got) == sorted(b"r%d" % i for i in range(200))
    spool.close()


def test_quota(tmp_path: Path):
    spool = Spool(tmp_path, quota_bytes=1000)
    spool.start()
    assert spool.has_room(900)
    spool.append_sync(b"z" * 600)
    assert not spool.has_room(600)
    _, end = _all(spool)
    spool.commit(end)
    assert spool.has_room(900)
    spool.close()


def test_rotate_lets_a_loaded_segment_go(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.start()
    spool.append_sync(b"personal data")
    first = spool._path(spool.durable.segment)
    spool.rotate()
    _, end = _all(spool)
    spool.commit(end)
    assert not first.exists()
    spool.close()


def test_damaged_sealed_segment_is_set_aside(tmp_path: Path):
    spool = Spool(tmp_path, segment_bytes=60)
    spool.start()
    for i in range(4):
        spool.append_sync(b"%d" % i * 40)
    spool.close()
    segments = sorted(tmp_path.glob("*.seg"))
    # flip a byte inside the first segment's payload (disk corruption)
    data = bytearray(segments[0].read_bytes())
    data[FRAME.size + 3] ^= 0xFF
    segments[0].write_bytes(bytes(data))
    again = Spool(tmp_path, segment_bytes=60)
    got, _ = _all(again)
    assert b"0" * 40 not in got
    assert b"3" * 40 in got
    assert list(tmp_path.glob("*.damaged"))
    again.close()


def test_damaged_committed_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "committed").write_text("garbage")
    try:
        Spool(tmp_path)
    except Exception as exc:
        assert "committed" in str(exc)
    else:
        raise AssertionError("a damaged committed file must not be ignored")


def test_write_failure_refuses_further_writes(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.start()
    spool.append_sync(b"ok")
    os.close(spool._fd)  # the disk goes away under the writer
    try:
        spool.append_sync(b"lost", timeout=10)
    except Exception as exc:
        assert "spool" in str(exc)
    else:
        raise AssertionError("a failed write must not be acknowledged")
    assert not spool.healthy
    spool._fd = -1
    spool.close()
