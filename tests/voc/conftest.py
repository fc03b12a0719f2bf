"""The voice-of-the-customer tests' workspace says in its spec which events are feedback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import journeykit
from journeykit.journey import set_spec
from journeykit.store import Workspace

#: The spec of the hand-made test data: survey answers and reviews with their fields.
VOC_SPEC = """
name: Voice of the customer tests
stages:
  - name: purchase
    touchpoints: [{name: Order, events: [Order Completed]}]
  - name: service
    touchpoints:
      - {name: Chat, events: [Chat Ended], kind: contact}
      - {name: Call, events: [Support Called], kind: contact}
  - name: after
    touchpoints:
      - {name: E-mail, events: [Email Sent], kind: message}
      - {name: Survey, events: [Survey Answered], kind: feedback}
      - {name: Review, events: [Review Posted], kind: feedback}
goals: [Order Completed]
surveys:
  - {event: Survey Answered, score: properties.score, comment: properties.comment,
     metric_field: properties.survey}
  - {event: Review Posted, score: properties.rating, comment: properties.text, metric: review}
"""


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """An empty workspace whose spec names the feedback events of the tests."""
    workspace = journeykit.open(tmp_path / "ws")
    set_spec(workspace, VOC_SPEC, by="tests")
    yield workspace
    workspace.close()
