"""The CoTHB evaluation harness in Python: the synthetic problems of
tools/cothb_harness.c (hidden correct path, proposer accuracy, signal noise), written
again independently and solved by btfm.CoTHB through the pull API, so the C harness and
the Python binding can be checked against each other.
"""

import random

import btfm

WRONG_ANSWERS = 3


class Problem:
    """Nodes are dicts; node 0 is the problem. One correct child per on-path node."""

    def __init__(self, rng, depth=6, breadth=4, accuracy=0.8, noise=0.2, sub_steps=2):
        self.rng, self.depth, self.breadth = rng, depth, breadth
        self.accuracy, self.noise, self.sub_steps = accuracy, noise, sub_steps
        self.nodes = [self._node(0, True)]

    def _node(self, depth, on_path):
        return {"depth": depth, "on_path": on_path, "proposed": 0, "correct_done": False,
                "sub": 0, "subject": -1, "sum": 0.0}

    def reading(self, truth):
        return (1 - self.noise) * float(truth) + self.noise * self.rng.random()

    def propose(self, parent):
        par = self.nodes[parent]
        if par["proposed"] >= self.breadth:
            return None
        correct = False
        if par["on_path"] and not par["correct_done"]:
            correct = (par["proposed"] == self.breadth - 1
                       or self.rng.random() < self.accuracy)
        par["proposed"] += 1
        par["correct_done"] = par["correct_done"] or correct
        self.nodes.append(self._node(par["depth"] + 1, par["on_path"] and correct))
        return len(self.nodes) - 1

    def signals_for(self, controller, parent, new_id):
        """Create the problem node matching controller node `new_id`; its signals."""
        level = controller.node(new_id).level
        par = self.nodes[parent]
        if level > 0:  # a step of a sub-problem re-examines its subject step
            node = self._node(par["depth"] + 1, False)
            node["sub"] = par["sub"] + 1
            node["subject"] = par["subject"] if par["sub"] else parent
            node["sum"] = (par["sum"] if par["sub"] else 0.0) + self.reading(
                self.nodes[node["subject"]]["on_path"])
            self.nodes.append(node)
            return {"reliability": node["sum"] / node["sub"],
                    "terminal": float(node["sub"] >= self.sub_steps)}
        child = self.propose(parent)
        if child is None:  # every candidate tried: a dead end
            self.nodes.append(self._node(par["depth"] + 1, False))
            return {"reliability": 0.0, "terminal": 1.0}
        node = self.nodes[child]
        return {"reliability": self.reading(node["on_path"]),
                "terminal": float(node["depth"] >= self.depth)}


def solve_with_cothb(problem, max_steps=60, seed=0):
    """(solved, expanded steps) for one problem."""
    with btfm.CoTHB(policy=0, max_steps=max_steps, max_breadth=problem.breadth + 2,
                    max_depth=problem.depth * (problem.sub_steps + 1) + 1, max_levels=2,
                    trace=False, seed=seed) as c:
        for action in c:
            if action.expands:
                new_id = c.add_node(action.node)
                c.observe(new_id, problem.signals_for(c, action.node, new_id))
                assert len(problem.nodes) == new_id + 1
        node = problem.nodes[action.node]
        solved = (action.action == "answer" and node["on_path"] and node["sub"] == 0
                  and node["depth"] == problem.depth)
        return solved, len(c) - 1


def success_rate(noise, problems=400, seed=12345, **kw):
    rng = random.Random(seed)
    solved = expanded = 0
    for i in range(problems):
        ok, steps = solve_with_cothb(Problem(rng, noise=noise, **kw), seed=i)
        solved += ok
        expanded += steps
    return solved / problems, expanded / problems
