"""A worker process for the crash test: ``python fault_worker.py STATE_URL HOOK_URL N WAIT``.

It offers N sign-ups (always the same event ids) and runs until it is killed.
"""

from __future__ import annotations

import sys

from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.worker import IterableSource, OrchestrateSettings, run_worker


def main() -> None:
    state_url, hook, n, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    [automation] = loads(
        f"""
id: crash
trigger: {{event: Signed Up}}
steps:
  - {{id: hello, action: webhook, url: "{hook}/hello"}}
  - {{id: pause, wait: {wait}}}
  - {{id: again, action: webhook, url: "{hook}/again"}}
"""
    )
    events = [
        {"event_id": f"signup-{i}", "person_id": f"p{i}", "event": "Signed Up"} for i in range(n)
    ]
    settings = OrchestrateSettings(
        poll_interval=0.02, batch_size=200, concurrency=4, lease_seconds=2
    )
    run_worker(state_url, [automation], IterableSource(events), settings=settings)


if __name__ == "__main__":
    main()
