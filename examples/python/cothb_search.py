"""A host loop driving the CoTHB controller on a Game of 24 puzzle.

Each thought is one arithmetic step (combine two of the remaining numbers). A real host
would ask a language model for the next step and a brain-derived predictor or a verifier
for its reliability; here a deterministic proposer enumerates the steps in a fixed order
and a verifier (exhaustive search: can 24 still be reached?) gives the reliability, with
a known share of uncertain verdicts that the controller settles by decomposition.

    python3 cothb_search.py 4 7 8 8
"""

import itertools
import sys
from fractions import Fraction

import btfm

TARGET = 24


def steps_from(state):
    """Every (expression, value) list reachable by one operation, in a fixed order."""
    out = []
    for i, j in itertools.combinations(range(len(state)), 2):
        (ea, a), (eb, b) = state[i], state[j]
        rest = [state[k] for k in range(len(state)) if k not in (i, j)]
        options = [(f"({ea} + {eb})", a + b), (f"({ea} * {eb})", a * b),
                   (f"({ea} - {eb})", a - b), (f"({eb} - {ea})", b - a)]
        if b != 0:
            options.append((f"({ea} / {eb})", a / b))
        if a != 0:
            options.append((f"({eb} / {ea})", b / a))
        out.extend(rest + [option] for option in options)
    return out


def solvable(state):
    if len(state) == 1:
        return state[0][1] == TARGET
    return any(solvable(s) for s in steps_from(state))


def verifier(state, index):
    """Reliability of a step: near 1 when 24 is still reachable, near 0 when not. Every
    fifth verdict on an unfinished step is uncertain (0.5), as a real predictor's would
    sometimes be."""
    if len(state) == 1:  # a finished computation is checked exactly
        return 1.0 if state[0][1] == TARGET else 0.0
    if index % 5 == 4:
        return 0.5
    return 0.95 if solvable(state) else 0.05


def main(numbers):
    root = [(str(n), Fraction(n)) for n in numbers]
    states = {0: root}          # controller node -> puzzle state
    tried = {0: 0}              # controller node -> candidate steps proposed so far
    with btfm.CoTHB(max_steps=400, max_breadth=64, seed=1) as controller:
        for action in controller:
            if not action.expands:
                continue
            parent = action.node
            new_id = controller.add_node(parent)
            if action.action == "decompose" or controller.node(new_id).level > 0:
                # The sub-problem re-checks the uncertain step exhaustively, then returns.
                states[new_id] = states[parent]
                tried[new_id] = 0
                sure = 0.95 if solvable(states[parent]) else 0.05
                controller.observe(new_id, reliability=sure, terminal=1)
                continue
            candidates = steps_from(states[parent])
            index = tried[parent]
            tried[parent] += 1
            if index >= len(candidates):  # nothing left to propose here: a dead end
                states[new_id], tried[new_id] = states[parent], 0
                controller.observe(new_id, reliability=0.0, terminal=1)
                continue
            state = candidates[index]
            states[new_id], tried[new_id] = state, 0
            controller.observe(new_id, reliability=verifier(state, new_id),
                               terminal=float(len(state) == 1))
        current, steps, cost = controller.progress
        print(f"puzzle: {' '.join(str(n) for n in numbers)}")
        print(f"final action: {action.action} at node {action.node}")
        print(f"steps: {steps}, nodes: {len(controller)}")
        counts = {}
        for event in controller.trace():
            if event["event"] == "action":
                counts[event["action"]] = counts.get(event["action"], 0) + 1
        print("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if action.action == "answer":
            expression, value = states[action.node][0]
            print(f"solution: {expression} = {value}")
            return 0
        print("no solution found (search exhausted or budget spent)")
        return 1


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [4, 7, 8, 8]
    sys.exit(main(args))
