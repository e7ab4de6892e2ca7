"""Each public estimator's docstring against the estimator itself, in the
spirit of scikit-learn's sklearn/tests/test_docstring_parameters.py, with a
small numpydoc section parser of its own (numpydoc is no dependency):

- Parameters lists exactly the __init__ parameters, in order, each with a
  type, the signature's default and a description;
- Attributes documents every public attribute a fit leaves, and nothing a
  fit never sets (an entry saying "only ..." may be absent after a plain fit,
  as scikit-learn's test allows);
- the choices of activation, output, optimizer, learning_rate_schedule and
  init are the names the estimator accepts, in the vocabulary's order, and
  n_threads' bound is the core's;
- the Examples run.
"""
import ast
import doctest
import inspect
import re
import warnings

import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification

import fastnn
from fastnn._core import vocabulary
from fastnn._init import INIT_SCHEMES
from fastnn._training import SCHEDULES

# The scikit-learn drop-ins carry scikit-learn's own documentation (checked
# at the end of this file); the rest are the notes' estimators.
DROP_INS = [fastnn.MLPClassifier, fastnn.MLPRegressor]
ESTIMATORS = [getattr(fastnn, name) for name in fastnn.__all__
              if inspect.isclass(getattr(fastnn, name))
              and issubclass(getattr(fastnn, name), BaseEstimator)
              and getattr(fastnn, name) not in DROP_INS]


# -- a numpydoc reader: sections, and the entries of Parameters/Attributes --

def sections(docstring):
    """{section title: its lines} of a numpydoc docstring; a title is a line
    underlined by a line of dashes of its length. The text before the first
    title is under ""."""
    lines = inspect.cleandoc(docstring).splitlines()
    found, title, body = {}, "", []
    i = 0
    while i < len(lines):
        if (i + 1 < len(lines) and lines[i].strip()
                and re.fullmatch(r"-+", lines[i + 1].strip())
                and len(lines[i + 1].strip()) == len(lines[i].strip())):
            found[title] = body
            title, body = lines[i].strip(), []
            i += 2
            continue
        body.append(lines[i])
        i += 1
    found[title] = body
    return found


def entries(lines):
    """[(name, type, description)] of a Parameters-like section: an entry is
    an unindented line "name : type" (or "name1, name2 : type", one entry
    per name) followed by its indented description."""
    groups = []   # [names, type, description lines], one per entry line
    for line in lines:
        if line.strip() and not line.startswith(" "):
            names, _, kind = line.partition(" : ")
            groups.append(([name.strip() for name in names.split(",")], kind.strip(), []))
        elif line.strip():
            assert groups, f"description before any entry: {line!r}"
            groups[-1][2].append(line.strip())
    return [(name, kind, " ".join(description))
            for names, kind, description in groups for name in names]


def documented(Estimator, section):
    return entries(sections(Estimator.__doc__).get(section, []))


def init_parameters(Estimator):
    parameters = inspect.signature(Estimator.__init__).parameters
    return [parameter for name, parameter in parameters.items() if name != "self"]


def choices(kind):
    """The quoted names inside the {...} of a type."""
    braces = re.match(r"\{([^}]*)\}", kind)
    assert braces, f"no {{choices}} in {kind!r}"
    return tuple(re.findall(r'"([^"]*)"', braces.group(1)))


def test_every_public_estimator_is_checked():
    assert {Estimator.__name__ for Estimator in ESTIMATORS} == {
        "LogisticRegression", "ShallowNetwork", "DeepNetwork", "DeepRegressor"}


def test_the_reader_reads_numpydoc():
    doc = '''Summary.

    Parameters
    ----------
    a, b : int, default=1
        The a
        and b.
    c : str

    Attributes
    ----------
    x_ : float
    '''
    assert set(sections(doc)) == {"", "Parameters", "Attributes"}
    assert entries(sections(doc)["Parameters"]) == [
        ("a", "int, default=1", "The a and b."), ("b", "int, default=1", "The a and b."),
        ("c", "str", "")]
    assert entries(sections(doc)["Attributes"]) == [("x_", "float", "")]


# -- Parameters --------------------------------------------------------------

@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_parameters_are_the_init_parameters_in_order(Estimator):
    names = [name for name, _, _ in documented(Estimator, "Parameters")]
    assert names == [parameter.name for parameter in init_parameters(Estimator)]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_each_parameter_has_type_default_and_description(Estimator):
    defaults = {parameter.name: parameter.default for parameter in init_parameters(Estimator)}
    for name, kind, description in documented(Estimator, "Parameters"):
        stated = re.search(r", default=(.+)$", kind)
        assert stated, f"{Estimator.__name__}.{name}: no ', default=...' in {kind!r}"
        assert kind[:stated.start()].strip(), f"{Estimator.__name__}.{name}: no type"
        assert ast.literal_eval(stated.group(1)) == defaults[name], (
            f"{Estimator.__name__}.{name}: documented default {stated.group(1)}, "
            f"signature {defaults[name]!r}")
        assert description, f"{Estimator.__name__}.{name}: no description"


def _accepts_init(Estimator, scheme):
    """Whether some model of `Estimator` sets up with init=scheme (without
    hidden layers where the estimator can have none)."""
    X, y = make_classification(n_samples=20, n_features=3, n_informative=2, n_redundant=0,
                               random_state=0)
    parameters = {"init": scheme, "max_iter": 0}
    if "hidden_layer_sizes" in inspect.signature(Estimator).parameters:
        parameters["hidden_layer_sizes"] = ()
    try:
        Estimator(**parameters).fit(X, y.astype(float) if Estimator is fastnn.DeepRegressor else y)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_choices_are_the_vocabulary_in_its_order(Estimator):
    kinds = {name: kind for name, kind, _ in documented(Estimator, "Parameters")}
    vocabularies = {"activation": vocabulary.HIDDEN_ACTIVATIONS,
                    "output": vocabulary.OUTPUT_ACTIVATIONS,
                    "optimizer": vocabulary.OPTIMIZERS,
                    "learning_rate_schedule": SCHEDULES}
    checked = 0
    for name, names in vocabularies.items():
        if name in kinds:
            assert choices(kinds[name]) == names, f"{Estimator.__name__}.{name}"
            checked += 1
    assert checked == (4 if Estimator is fastnn.DeepRegressor else
                       2 if Estimator is fastnn.LogisticRegression else 3)
    accepted = tuple(scheme for scheme in INIT_SCHEMES if _accepts_init(Estimator, scheme))
    assert choices(kinds["init"]) == accepted, f"{Estimator.__name__}.init"
    bounds = re.match(r"int in \[1, (\d+)\]", kinds["n_threads"])
    assert bounds and int(bounds.group(1)) == vocabulary.MAX_THREADS


# -- Attributes --------------------------------------------------------------

def _public_fitted_attributes(estimator):
    """Attributes and properties of `estimator` ending in "_", not starting
    with "_" (as scikit-learn's _get_all_fitted_attributes)."""
    names = [name for name in vars(estimator)]
    for name in dir(type(estimator)):
        if isinstance(getattr(type(estimator), name), property):
            try:
                getattr(estimator, name)
            except AttributeError:
                continue
            names.append(name)
    return {name for name in names if name.endswith("_") and not name.startswith("_")}


def _fits(Estimator):
    """Small fits leaving every kind of fitted state: plain, with early
    stopping, with a development set, by partial_fit and, if pandas imports,
    on a DataFrame. Yields (description, fitted model)."""
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0,
                               random_state=0)
    if Estimator is fastnn.DeepRegressor:
        y = y.astype(float)
    small = {"max_iter": 3, "random_state": 0}
    if "hidden_layer_sizes" in inspect.signature(Estimator).parameters:
        small["hidden_layer_sizes"] = (5,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield "fit", Estimator(**small).fit(X, y)
        yield "fit, early_stopping=True", Estimator(**small, early_stopping=True).fit(X, y)
        yield "fit(dev=...)", Estimator(**small).fit(X[:40], y[:40], dev=(X[40:], y[40:]))
        yield "partial_fit", Estimator(**small).partial_fit(X, y)
        try:
            import pandas as pd
        except ImportError:
            return
        frame = pd.DataFrame(X, columns=[f"feature {j}" for j in range(X.shape[1])])
        yield "fit on a DataFrame, early_stopping=True", Estimator(
            **small, early_stopping=True).fit(frame, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_attributes_document_every_fitted_attribute(Estimator):
    attributes = {name: description
                  for name, _, description in documented(Estimator, "Attributes")}
    assert attributes, f"{Estimator.__name__} has no Attributes section"
    seen = set()
    for how, model in _fits(Estimator):
        fitted = _public_fitted_attributes(model)
        seen |= fitted
        undocumented = fitted - set(attributes)
        assert not undocumented, f"{Estimator.__name__} ({how}) leaves undocumented {undocumented}"
        if how == "fit":
            # What a plain fit must leave: every entry not marked "only ..."
            required = {name for name, description in attributes.items()
                        if "only " not in description.lower()}
            assert required <= fitted, f"{Estimator.__name__} fit lacks {required - fitted}"
    try:
        import pandas  # noqa: F401
    except ImportError:
        seen.add("feature_names_in_")
    assert set(attributes) <= seen, (
        f"{Estimator.__name__} documents attributes no fit sets: {set(attributes) - seen}")


# -- Examples ----------------------------------------------------------------

@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_examples_run(Estimator):
    assert ">>>" in "\n".join(sections(Estimator.__doc__).get("Examples", []))
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(Estimator, Estimator.__name__, globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


# -- the scikit-learn drop-ins -------------------------------------------------

@pytest.mark.parametrize("Estimator", DROP_INS, ids=lambda E: E.__name__)
def test_drop_ins_document_scikit_learns_parameters_and_attributes(Estimator):
    from sklearn import neural_network
    theirs = getattr(neural_network, Estimator.__name__)
    for section in ("Parameters", "Attributes"):
        assert documented(Estimator, section) == documented(theirs, section)
    names = [name for name, _, _ in documented(Estimator, "Parameters")]
    assert names == [parameter.name for parameter in init_parameters(Estimator)]
    test_each_parameter_has_type_default_and_description(Estimator)


@pytest.mark.parametrize("Estimator", DROP_INS, ids=lambda E: E.__name__)
def test_drop_in_examples_run(Estimator):
    test_examples_run(Estimator)
