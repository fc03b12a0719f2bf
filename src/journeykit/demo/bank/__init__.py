"""The demo bank: loans and credit cards through branches, call centre, app, web, e-mail, letters.

An Irish retail bank (EUR): people find it through ads, searches, social ads and a comparison
site, or walk into a branch; they apply for a personal loan or a credit card, upload photo ID,
get a decision by e-mail or letter, sign, bank in the app and call the call centre. Loan
customers are offered a credit card weeks later and recognised as existing customers when they
apply. Six effects are planted and measured (docs/demo.md); ``SCENARIO`` plugs the bank into
:func:`journeykit.demo.generate` (``scenario="bank"``).
"""

from __future__ import annotations

from journeykit.demo.bank.groundtruth import document
from journeykit.demo.bank.simulate import simulate_block
from journeykit.demo.bank.truth import measure, new_tally
from journeykit.demo.bank.vocab import CAMPAIGNS
from journeykit.demo.dataset import Scenario, spend_table

#: Events per person at 120 days (measured at seed 7, 20,000 people).
EVENTS_PER_PERSON = 11.03

SCENARIO = Scenario(
    name="bank",
    events_per_person=EVENTS_PER_PERSON,
    simulate=simulate_block,
    tally=new_tally,
    measure=measure,
    spend=lambda world, tally: spend_table(world, tally.spend_clicks, CAMPAIGNS),
    document=document,
)

__all__ = ["EVENTS_PER_PERSON", "SCENARIO"]
