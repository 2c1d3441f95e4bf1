"""``pubsub-cli groups``: the consumer group of a subscription."""

from __future__ import annotations

from typing import Annotated

import typer

from pubsubgo.cli.context import cli_context
from pubsubgo.cli.output import print_json, print_table, say
from pubsubgo.cli.runner import call

app = typer.Typer(help="Inspect consumer groups.", no_args_is_help=True)

MEMBER_COLUMNS = ["MEMBER", "PARTITIONS", "JOINED", "LAST HEARTBEAT"]


@app.command()
def describe(
    ctx: typer.Context,
    subscription: Annotated[str, typer.Argument(help="The subscription whose group to show.")],
) -> None:
    """Show a subscription's group: its generation and each member's partitions."""
    cli = cli_context(ctx)
    group = call(cli, lambda client: client.groups.describe(subscription))
    if cli.json:
        print_json(group)
        return
    say(f"group of {group.subscription}: generation {group.generation}, "
        f"{len(group.members)} member(s)")  # fmt: skip
    if group.members:
        rows = ([m.member_id, m.assignment, m.joined_at, m.last_heartbeat] for m in group.members)
        print_table(None, MEMBER_COLUMNS, rows)
