"""`python -m fastnn`: logistic regression on scikit-learn's bundled
breast-cancer data, trained by the compiled core."""
import sys
import time

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fastnn import LogisticRegression


def main():
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target_names[data.target], test_size=0.2,
        stratify=data.target, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    print(f"breast cancer: {X_train.shape[0]} training and {X_test.shape[0]} test "
          f"examples, {X_train.shape[1]} standardised features")

    model = LogisticRegression(learning_rate=0.1, max_iter=2000, cost_every=200, verbose=1)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"trained {model.n_iter_} full-batch iterations in {seconds * 1000:.1f} ms")
    print(f"train accuracy {model.score(X_train, y_train):.4f}")
    print(f"test accuracy  {model.score(X_test, y_test):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
