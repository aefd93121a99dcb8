"""The health gate's pauses between checks (dkron_update.check_pauses)."""

from itertools import islice

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_update import check_pauses


def test_half_a_second_for_the_first_five_seconds_then_the_longest():
    assert list(islice(check_pauses(2.0), 12)) == [0.5] * 10 + [2.0, 2.0]


def test_a_longest_pause_shorter_than_half_a_second_is_kept():
    assert list(islice(check_pauses(0.2), 12)) == [0.2] * 12
