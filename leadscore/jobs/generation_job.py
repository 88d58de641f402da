"""`leadscore generate` and the demo's first step: a synthetic CRM history, summarised."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from data.history_summary import summarize_history
from leadscore.console_tables import summary_table


def generate_history(console: Console, folder: Path, config: GeneratorConfig) -> None:
    started = time.perf_counter()
    with console.status(f"Generating {config.leads:,} leads into {folder} ..."):
        write_history(config, folder)
        summary = summarize_history(folder)
    console.print(summary_table(summary, folder))
    console.print(
        f"Done in {time.perf_counter() - started:.1f} s; hidden truth in {folder / 'truth'}"
    )
