"""What the catch-up tests read from a canary job's file of run times: the ledger's rule for @every
(a gap of g seconds holds round(g / interval) - 1 missed slots; two runs within half an interval are
one slot run twice), for holding the ledger to the ground truth."""


def missed_in(runs, interval):
    return sum(max(0, int((later - earlier) / interval + 0.5) - 1) for earlier, later in zip(runs, runs[1:]))


def doubled_in(runs, interval):
    return sum(1 for earlier, later in zip(runs, runs[1:]) if later - earlier < interval / 2)
