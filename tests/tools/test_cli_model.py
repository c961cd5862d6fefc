"""btfm model, driven as from a shell, against scikit-learn on the same inputs: the
penalties RidgeCV chooses per target, its predictions and R^2; nested held-out scores
against RidgeCV refitted on each outer training block; leave-one-group-out against
GridSearchCV; logistic probabilities against LogisticRegression at the chosen C; a
Bradley-Terry reward from preferred pairs against LogisticRegression on the feature
differences; FIR delays recovering a lagged response; .tsv inputs equal to .npy ones;
every refusal."""
import json
import os
import tempfile
import unittest

import numpy as np

from cli_support import program, run

program()  # the btfm under test: the first argument
try:
    from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GridSearchCV, KFold, LeaveOneGroupOut
except ImportError:  # pragma: no cover - the CI image has python3-sklearn
    RidgeCV = None

ALPHAS = [0.1, 1.0, 10.0, 100.0]


def data(n=97, p=13, t=7, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p) + 1).astype(np.float32)
    Y = (X @ rng.standard_normal((p, t)) + 2 * rng.standard_normal((n, t)) + 3)
    return X, Y.astype(np.float32)


def write_tsv(path, a, names=None):
    a = np.atleast_2d(a.T).T if a.ndim == 1 else a
    names = names or ["c%d" % j for j in range(a.shape[1])]
    with open(path, "w") as f:
        f.write("\t".join(names) + "\n")
        for row in a:
            f.write("\t".join(repr(float(v)) for v in row) + "\n")


def pearson(a, b):
    a, b = a - a.mean(0), b - b.mean(0)
    return (a * b).sum(0) / np.sqrt((a * a).sum(0) * (b * b).sum(0))


@unittest.skipIf(RidgeCV is None, "scikit-learn is not installed")
class ModelCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def save(self, name, a):
        np.save(self.path(name), a)
        return self.path(name)

    def ok(self, *args):
        r = run("model", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_ridge_equals_sklearn_ridgecv(self):
        X, Y = data()
        x, y = self.save("x.npy", X), self.save("y.npy", Y)
        out = json.loads(self.ok("fit", self.path("m.btfm"), x, y, "--alphas",
                                 ",".join(map(str, ALPHAS)), "--json"))
        sk = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X.astype(float), Y.astype(float))
        self.assertEqual(out["alpha"], list(sk.alpha_))
        self.assertEqual((out["n_samples"], out["n_features"], out["n_outputs"]), (97, 13, 7))
        X2, Y2 = data(seed=1)
        self.ok("predict", self.path("m.btfm"), self.save("x2.npy", X2), self.path("p.npy"))
        pred = np.load(self.path("p.npy"))
        want = sk.predict(X2.astype(float))
        self.assertEqual(pred.shape, (97, 7))
        self.assertLess(np.abs(pred - want).max(), 1e-5 * np.abs(want).max())
        score = json.loads(self.ok("score", self.path("m.btfm"), self.path("x2.npy"),
                                   self.save("y2.npy", Y2), "--json", "--out", self.path("s.npy")))
        truth = r2_score(Y2.astype(float), want, multioutput="raw_values")
        self.assertLess(np.abs(np.array(score["scores"]) - truth).max(), 1e-5)
        self.assertLess(np.abs(np.load(self.path("s.npy"))[0] - truth).max(), 1e-5)
        score = json.loads(self.ok("score", self.path("m.btfm"), self.path("x2.npy"),
                                   self.path("y2.npy"), "--kind", "pearson", "--json"))
        self.assertLess(np.abs(np.array(score["scores"]) - pearson(Y2, want)).max(), 1e-5)
        text = self.ok("score", self.path("m.btfm"), self.path("x2.npy"), self.path("y2.npy"))
        self.assertIn("r2 on 97 samples, 7 targets: mean %.6g" % truth.mean(), text)
        sd_file = self.path("sd.npy")
        self.ok("predict", self.path("m.btfm"), self.path("x2.npy"), sd_file, "--std")
        self.assertTrue((np.load(sd_file) > 0).all())

    def test_held_out_scores_equal_refits_on_outer_blocks(self):
        X, Y = data(n=101, t=4, seed=2)
        out = json.loads(self.ok("fit", self.path("m.btfm"), self.save("x.npy", X),
                                 self.save("y.npy", Y), "--alphas", "0.1,1,10,100",
                                 "--held-out", "5", "--scores", self.path("s.npy"), "--json"))
        pred = np.zeros(Y.shape)
        for train, test in KFold(5).split(X):
            sk = RidgeCV(alphas=ALPHAS, alpha_per_target=True)
            sk.fit(X[train].astype(float), Y[train].astype(float))
            pred[test] = sk.predict(X[test].astype(float))
        r2 = r2_score(Y.astype(float), pred, multioutput="raw_values")
        self.assertLess(np.abs(np.array(out["held_out_r2"]) - r2).max(), 1e-5)
        self.assertLess(np.abs(np.array(out["held_out_pearson"]) - pearson(Y, pred)).max(), 1e-5)
        scores = np.load(self.path("s.npy"))
        self.assertEqual(scores.shape, (2, 4))
        self.assertLess(np.abs(scores[0] - r2).max(), 1e-5)
        text = self.ok("fit", self.path("m2.btfm"), self.path("x.npy"), self.path("y.npy"),
                       "--alphas", "0.1,1,10,100", "--held-out", "5")
        self.assertIn("held-out R^2 mean %.4f" % r2.mean(), text)

    def test_groups_from_tsv_equal_leave_one_group_out(self):
        X, Y = data(n=90, t=2, seed=3)
        groups = np.repeat([2, 0, 1], 30)
        write_tsv(self.path("x.tsv"), X)
        write_tsv(self.path("y.tsv"), Y, ["left", "right"])
        write_tsv(self.path("g.tsv"), groups.astype(float), ["run"])
        out = json.loads(self.ok("fit", self.path("m.btfm"), self.path("x.tsv"),
                                 self.path("y.tsv"), "--groups", self.path("g.tsv"), "--cv",
                                 "1", "--alphas", "0.1,1,10,100", "--json"))
        for j in range(2):
            gs = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=LeaveOneGroupOut())
            gs.fit(X.astype(float), Y[:, j].astype(float), groups=groups)
            self.assertEqual(out["alpha"][j], gs.best_params_["alpha"])
        # The same numbers from .npy give the same model.
        npy = json.loads(self.ok("fit", self.path("n.btfm"), self.save("x.npy", X),
                                 self.save("y.npy", Y), "--groups",
                                 self.save("g.npy", groups.astype(np.float32)), "--cv", "1",
                                 "--alphas", "0.1,1,10,100", "--json"))
        self.assertEqual(npy["alpha"], out["alpha"])
        self.ok("predict", self.path("m.btfm"), self.path("x.npy"), self.path("a.npy"))
        self.ok("predict", self.path("n.btfm"), self.path("x.npy"), self.path("b.npy"))
        self.assertTrue(np.array_equal(np.load(self.path("a.npy")), np.load(self.path("b.npy"))))

    def test_logistic_equals_sklearn_at_the_chosen_c(self):
        rng = np.random.default_rng(4)
        X = rng.standard_normal((120, 5)).astype(np.float32)
        labels = (X @ [1.5, -1, 0.5, 0, 0] + 0.7 * rng.standard_normal(120) > 0).astype(np.float32)
        out = json.loads(self.ok("fit", self.path("c.btfm"), self.save("x.npy", X),
                                 self.save("l.npy", labels), "--type", "logistic", "--cv", "5",
                                 "--held-out", "4", "--json"))
        alpha = out["alpha"][0]
        sk = LogisticRegression(C=1 / alpha, solver="newton-cg", tol=1e-8, max_iter=10000)
        sk.fit(X.astype(float), labels)
        self.ok("predict", self.path("c.btfm"), self.path("x.npy"), self.path("p.npy"), "--proba")
        proba = np.load(self.path("p.npy"))
        self.assertEqual(proba.shape, (120, 2))
        self.assertLess(np.abs(proba - sk.predict_proba(X.astype(float))).max(), 1e-4)
        self.assertGreater(out["held_out_accuracy"], 0.75)

    def test_bradley_terry_equals_logistic_regression_on_differences(self):
        rng = np.random.default_rng(6)
        items, p, n = 41, 6, 257
        X = rng.standard_normal((items, p)).astype(np.float32)
        pairs = np.array([rng.choice(items, 2, replace=False) for _ in range(n)])
        D = (X[pairs[:, 0]] - X[pairs[:, 1]]).astype(float)
        won = (rng.random(n) < 1 / (1 + np.exp(-D @ [1, -1, 0.5, 0, 0, 2]))).astype(np.float32)
        x = self.save("items.npy", X)
        write_tsv(self.path("pairs.tsv"), pairs.astype(float), ["first", "second"])
        out = json.loads(self.ok("fit", self.path("bt.btfm"), x, self.path("pairs.tsv"),
                                 "--type", "bradley_terry", "--outcomes",
                                 self.save("won.npy", won), "--alphas", "3", "--json"))
        self.assertEqual((out["type"], out["n_pairs"], out["alpha"]), ("bradley_terry", n, [3.0]))
        sk = LogisticRegression(C=1 / 3, fit_intercept=False, solver="newton-cg", tol=1e-8)
        sk.fit(D, won)
        self.ok("predict", self.path("bt.btfm"), x, self.path("s.npy"))
        scores = np.load(self.path("s.npy"))[:, 0]
        ref = X.astype(float) @ sk.coef_[0]
        self.assertLess(np.abs(scores - ref).max(), 1e-5 * np.abs(ref).max())
        self.ok("predict", self.path("bt.btfm"), x, self.path("p.npy"), "--pairs",
                self.save("pairs.npy", pairs.astype(np.float32)))
        proba = np.load(self.path("p.npy"))
        self.assertEqual(proba.shape, (n, 3))
        self.assertLess(np.abs(proba[:, 0] - sk.predict_proba(D)[:, 1]).max(), 1e-5)
        self.assertLess(np.abs(proba[:, 2] - sk.predict_proba(D)[:, 0]).max(), 1e-5)
        bad = self.save("bad.npy", np.array([[0, items]], np.float32))
        r = run("model", "fit", self.path("b.btfm"), x, bad, "--type", "bradley_terry")
        self.assertIn("row 1 names item %d" % items, r.stderr)
        r = run("model", "fit", self.path("b.btfm"), x, self.path("pairs.tsv"), "--type",
                "bradley_terry", "--outcomes", self.save("few.npy", won[:5]))
        self.assertIn("expected one per pair (%d)" % n, r.stderr)
        r = run("model", "fit", self.path("b.btfm"), x, self.path("pairs.tsv"), "--type",
                "bradley_terry", "--held-out", "5")
        self.assertEqual(r.returncode, 2)
        r = run("model", "predict", self.path("bt.btfm"), x, self.path("p.npy"), "--pairs", bad)
        self.assertIn("pairs[0]", r.stderr)

    def test_fir_delays_recover_a_lagged_response(self):
        rng = np.random.default_rng(5)
        X = rng.standard_normal((200, 3)).astype(np.float32)
        Y = np.zeros((200, 1), np.float32)
        Y[2:, 0] = X[:-2, 0] - 0.5 * X[:-2, 2]
        Y += 0.05 * rng.standard_normal((200, 1)).astype(np.float32)
        x, y = self.save("x.npy", X), self.save("y.npy", Y)
        lagged = json.loads(self.ok("fit", self.path("d.btfm"), x, y, "--delays", "1,2,3",
                                    "--alphas", "0.01,0.1", "--held-out", "5", "--json"))
        plain = json.loads(self.ok("fit", self.path("p.btfm"), x, y, "--alphas", "0.01,0.1",
                                   "--held-out", "5", "--json"))
        self.assertGreater(lagged["held_out_r2"][0], 0.98)
        self.assertLess(plain["held_out_r2"][0], 0.1)

    def test_refusals_name_what_is_wrong(self):
        X, Y = data(n=20, t=2)
        x, y = self.save("x.npy", X), self.save("y.npy", Y)
        short = self.save("short.npy", Y[:19])
        model = self.path("m.btfm")
        cases = [
            (("fit", model, x, short), 1, "has 20 rows but Y"),
            (("fit", model, x, y, "--type", "lasso"), 2, "unknown --type 'lasso'"),
            (("fit", model, x, y, "--alphas", "1,x"), 2, "--alphas takes finite numbers"),
            (("fit", model, x, y, "--alphas", "-1"), 1, "alpha"),
            (("fit", model, x, y, "--scores", "s.npy"), 2, "--scores needs --held-out"),
            (("fit", model, x, y, "--held-out", "1"), 2, "--held-out takes"),
            (("fit", model, x, y, "--cv", "50"), 1, "cv is 50 folds"),
            (("fit", model, x, y, "--type", "logistic"), 1, "one column of class labels"),
            (("fit", model, x, y, "--param", "nonsense=1"), 1, "nonsense"),
            (("fit", model, x, self.path("missing.npy")), 1, "missing.npy"),
            (("fit", model, x), 2, "fit needs OUT.model X Y"),
            (("fit", model, x, y, "--bogus"), 2, "unknown option '--bogus'"),
            (("frobnicate",), 2, "unknown subcommand 'frobnicate'"),
            (("score", model, x, y, "--kind", "accuracy"), 2, "unknown --kind"),
            (("predict", model, x), 2, "predict needs MODEL X OUT.npy"),
        ]
        for args, code, text in cases:
            r = run("model", *args)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertIn(text, r.stderr, args)
        self.assertFalse(os.path.exists(model), "no model after a failed fit")
        labels = self.save("frac.npy", np.full(20, 0.5, np.float32))
        r = run("model", "fit", model, x, labels, "--type", "logistic")
        self.assertIn("row 1 holds 0.5; expected a whole number", r.stderr)
        with open(self.path("na.tsv"), "w") as f:
            f.write("a\tb\n1\t2\nn/a\t3\n")
        r = run("model", "fit", model, self.path("na.tsv"), y)
        self.assertIn("row 2, column 'a' is n/a", r.stderr)
        self.ok("fit", model, x, y)
        r = run("model", "predict", model, self.save("wide.npy", np.zeros((3, 14), np.float32)),
                self.path("p.npy"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("features", r.stderr)
        r = run("model", "predict", model, x, self.path("p.npy"), "--proba")
        self.assertIn("--proba needs a logistic model", r.stderr)
        r = run("model", "fit", model, x, self.save("cube.npy", np.zeros((20, 2, 2), np.float32)))
        self.assertIn("expected a matrix", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
