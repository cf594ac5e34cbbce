"""Plain-text tables of evaluation reports, for the terminal and the README."""

from __future__ import annotations

COLUMNS = ("hr@10", "ndcg@10", "hr@20", "ndcg@20", "mrr@20", "coverage@10")


def format_table(reports: list[dict], markdown: bool = False) -> str:
    header = ["dataset", "protocol", "model", *COLUMNS, "fit s"]
    rows = [
        [
            str(r["dataset"]),
            r["protocol"],
            r["model"],
            *(f"{r['metrics'][c]:.4f}" for c in COLUMNS),
            f"{r['fit_s']:.1f}",
        ]
        for r in reports
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [header, *rows])
