"""`image-assistant publish`: a publish set's renditions of one preset, written into a folder."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from image_assistant.cli.common import data_dir_option, load_settings, opened_runtime


@click.command("publish")
@click.argument("set_id")
@click.option(
    "--preset", "preset_name", required=True, help="web-2048, square-1080, … or one of the user's own."
)
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.",
)
@click.option("--user", "username", default=None, help="The set's owner (checked when given).")
@data_dir_option
def publish_command(
    set_id: str, preset_name: str, target: Path, username: str | None, data_dir: Path | None
) -> None:
    """Write SET_ID's photos, made for a preset, into a folder, named in the set's order."""
    from sqlalchemy import select

    from image_assistant.core import exports, presets, publish
    from image_assistant.db.models import PublishSet, User
    from image_assistant.errors import NotFound

    try:
        wanted = uuid.UUID(set_id)
    except ValueError:
        raise click.ClickException("SET_ID must be a publish set's id (a UUID)") from None
    with opened_runtime(load_settings(data_dir)) as runtime, runtime.sessions() as db:
        found = db.get(PublishSet, wanted)
        owner = found.user_id if found is not None else None
        if username is not None:
            owner = db.scalar(select(User.id).where(User.username == username))
            if owner is None:
                raise click.ClickException(f"no user {username!r}")
        if owner is None:
            raise NotFound("no such publish set")
        publish_set = publish.get_set(db, user_id=owner, set_id=wanted)
        preset = presets.resolve(db, user_id=owner, name=preset_name)
        plan = exports.plan(
            db, title=publish_set.title, preset=preset, members=publish.members(db, publish_set)
        )
        db.close()
        written, report = exports.export_to_dir(plan, exports.Renderer(runtime.store), target)
    for line in report:
        click.echo(line, err=True)
    click.echo(f"wrote {written} of {len(plan.items)} photos ({preset.name}) to {target}")
