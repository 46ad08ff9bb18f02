"""The demo dataset committed at agent/demo/dataset/, regenerated exactly.

    python -m evals.simulator.demo [--out DIR]

Four cases; demo-0001 is the showcase: a payment deploy whose new code throws
a NullPointerException mapping the PSP's answer, while two benign deploys land
around it. Checkout fails for customers, the alert is Alertmanager's
CheckoutHighErrorRate on the user-facing checkout service, and the true
answer is the payment deploy (SEV1, payments paged).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.simulator.case import CasePlan
from evals.simulator.estate import Estate
from evals.simulator.faults import kind
from evals.simulator.generate import START, Options, Summary, generate

DEMO_DIR = Path(__file__).resolve().parents[2] / "agent" / "demo" / "dataset"
DEMO_SEED = 20260511
# A little under the benchmark's log and trace volume, to stay well within 5 MB.
DEMO_VOLUME = 0.8
HOUR = 3600.0
# (fault, culprit, hours after the dataset start, alert source)
DEMO_CASES = (
    ("bad-deploy", "payment", 12.4, "alertmanager"),
    ("psp-outage", "psp", 19.1, "cloudwatch"),
    ("slow-query", "orders-db", 27.6, "datadog"),
    ("credential-stuffing", "auth", 36.2, "generic"),
)


def demo_plans() -> list[CasePlan]:
    return [
        CasePlan(
            case_id=f"demo-{i + 1:04d}",
            index=i,
            kind=kind(fault),
            culprit=culprit,
            fault_s=START + hours * HOUR,
            seed=DEMO_SEED,
            source=source,
            volume=DEMO_VOLUME,
        )
        for i, (fault, culprit, hours, source) in enumerate(DEMO_CASES)
    ]


def build(out: Path = DEMO_DIR) -> Summary:
    options = Options(
        out=out, seed=DEMO_SEED, cases=len(DEMO_CASES), prefix="demo", name="sakuramart-demo"
    )
    return generate(options, Estate.from_policy(), demo_plans())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_DIR)
    args = parser.parse_args()
    summary = build(args.out)
    print(f"wrote {summary.cases} cases to {args.out} ({summary.bytes / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
