#!/usr/bin/env python3
"""How well the assistant's local understanding reads customer messages: accuracy, precision and
recall per intent, and the confusion table, on the labelled set in tests/data/.

Each line of the set (``assistant_eval.jsonl``) is a customer message with its language, the
intent a person would expect (``order_status``, ``invoice``, ``return``, ``hours``,
``faq:<entry id>``, ``human``, ``none``) and, for some, ``"negative": true``. The FAQ entries
the ``faq:`` labels name are a typical shop's (``assistant_faq.json``). Every message is read by
``tools.assistant.understand`` with the FAQ matcher of those entries, in the message's language.

A message counts as right when the predicted label equals the expected one (an FAQ answer must
name the right entry). The table folds the FAQ entries into one ``faq`` row and column. Goals:
accuracy >= 90 %, precision of ``order_status`` >= 98 % (a wrong order answer is worse than a
hand-off). Exit code 0 when both are met, 1 otherwise.

No Odoo, no database: runs with the plain requirements (``requirements.txt``).
"""

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
sys.path.insert(0, str(REPO / "tests"))
from tools_package import load_tools  # noqa: E402  (wa_tools: the addon's tools without Odoo)

GOAL_ACCURACY = 0.90
GOAL_ORDER_PRECISION = 0.98
DEFAULT_THRESHOLD = 0.6  # whatsapp.faq's default (whatsapp_helpdesk.faq_threshold)


def load_set(path=DATA / "assistant_eval.jsonl"):
    """The labelled messages: dicts with ``text``, ``lang``, ``label`` (and ``negative``)."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_matcher(path=DATA / "assistant_faq.json", threshold=DEFAULT_THRESHOLD):
    """The ``tools.faq.Matcher`` of the shop's FAQ entries the ``faq:`` labels name."""
    load_tools()
    from wa_tools import faq

    with open(path, encoding="utf-8") as data:
        entries = json.load(data)["entries"]
    return faq.Matcher(
        [
            faq.Entry(
                e["id"], e["language"], tuple(e["questions"]), tuple(e["keywords"]), e["answer"]
            )
            for e in entries
        ],
        threshold=threshold,
    )


def family(label):
    """``faq:delivery_time`` -> ``faq``: the table's rows and columns."""
    return label.split(":", 1)[0]


def evaluate(rows, matcher):
    """The figures of the local understanding on ``rows``: a dict (see :func:`report`)."""
    load_tools()
    from wa_tools.assistant import understand

    results = []
    for row in rows:
        got = understand.understand(row["text"], row["lang"], matcher)
        results.append({**row, "predicted": got.label, "predicted_negative": got.negative})
    labels = sorted(
        {family(r["label"]) for r in results} | {family(r["predicted"]) for r in results}
    )
    confusion = {expected: Counter() for expected in labels}
    for r in results:
        confusion[family(r["label"])][family(r["predicted"])] += 1
    per_intent = {}
    for label in labels:
        true_positive = sum(
            1 for r in results if family(r["label"]) == label and r["label"] == r["predicted"]
        )
        predicted = sum(1 for r in results if family(r["predicted"]) == label)
        expected = sum(1 for r in results if family(r["label"]) == label)
        per_intent[label] = {
            "precision": true_positive / predicted if predicted else 1.0,
            "recall": true_positive / expected if expected else 1.0,
            "predicted": predicted,
            "expected": expected,
        }
    by_language = defaultdict(lambda: [0, 0])
    for r in results:
        by_language[r["lang"]][0] += r["label"] == r["predicted"]
        by_language[r["lang"]][1] += 1
    negatives = [r for r in results if r.get("negative")]
    flagged = [r for r in results if r["predicted_negative"]]
    right = sum(r["label"] == r["predicted"] for r in results)
    return {
        "messages": len(results),
        "accuracy": right / len(results) if results else 0.0,
        "labels": labels,
        "confusion": confusion,
        "per_intent": per_intent,
        "by_language": {lang: ok / total for lang, (ok, total) in sorted(by_language.items())},
        "negative_recall": (
            sum(r["predicted_negative"] for r in negatives) / len(negatives) if negatives else 1.0
        ),
        "negative_precision": (
            sum(bool(r.get("negative")) for r in flagged) / len(flagged) if flagged else 1.0
        ),
        "errors": [r for r in results if r["label"] != r["predicted"]],
    }


def goals_met(figures):
    return (
        figures["accuracy"] >= GOAL_ACCURACY
        and figures["per_intent"].get("order_status", {}).get("precision", 0.0)
        >= GOAL_ORDER_PRECISION
    )


def report(figures, *, show_errors=False, out=sys.stdout):
    labels = figures["labels"]
    width = max(len(label) for label in labels) + 2
    out.write(f"{figures['messages']} labelled messages\n\n")
    out.write("expected \\ predicted".ljust(width + 10))
    out.write("".join(label[:12].rjust(13) for label in labels) + "\n")
    for expected in labels:
        row = figures["confusion"][expected]
        out.write(expected.ljust(width + 10))
        out.write("".join(str(row.get(label, 0)).rjust(13) for label in labels) + "\n")
    out.write("\nintent".ljust(width + 1) + "precision   recall  predicted  expected\n")
    for label, stats in figures["per_intent"].items():
        out.write(
            f"{label.ljust(width)}{stats['precision']:9.1%}{stats['recall']:9.1%}"
            f"{stats['predicted']:11d}{stats['expected']:10d}\n"
        )
    out.write("\naccuracy by language: ")
    out.write(", ".join(f"{lang} {value:.1%}" for lang, value in figures["by_language"].items()))
    out.write(
        f"\nnegative sentiment: precision {figures['negative_precision']:.1%}, "
        f"recall {figures['negative_recall']:.1%}\n"
    )
    if show_errors:
        out.write("\nmisread messages:\n")
        for r in figures["errors"]:
            out.write(
                f"  [{r['lang']}] {r['text']!r}: expected {r['label']}, got {r['predicted']}\n"
            )
    order_precision = figures["per_intent"].get("order_status", {}).get("precision", 0.0)
    out.write(
        f"\naccuracy {figures['accuracy']:.1%} (goal {GOAL_ACCURACY:.0%}), "
        f"order_status precision {order_precision:.1%} (goal {GOAL_ORDER_PRECISION:.0%}): "
        f"{'met' if goals_met(figures) else 'NOT met'}\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA / "assistant_eval.jsonl")
    parser.add_argument("--faq", type=Path, default=DATA / "assistant_faq.json")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="FAQ threshold (0.6)"
    )
    parser.add_argument("--language", help="only the messages of this language (pt_BR...)")
    parser.add_argument("--errors", action="store_true", help="list the misread messages")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rows = load_set(args.data)
    if args.language:
        rows = [r for r in rows if r["lang"] == args.language]
    figures = evaluate(rows, load_matcher(args.faq, args.threshold))
    if args.json:
        shown = {k: v for k, v in figures.items() if k != "errors"}
        sys.stdout.write(json.dumps(shown, indent=2, default=dict) + "\n")
    else:
        report(figures, show_errors=args.errors)
    return 0 if goals_met(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
