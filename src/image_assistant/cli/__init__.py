"""The `image-assistant` command: thin wrappers that parse, call the core, and print."""

from __future__ import annotations

import click

from image_assistant.agent.cli import agent
from image_assistant.cli.accounts import devices, users
from image_assistant.cli.common import FriendlyGroup
from image_assistant.cli.operations import migrate_storage_command, mount_command, unmount_command
from image_assistant.cli.publish import publish_command
from image_assistant.cli.server import db, serve, thumbnails, worker


@click.group(cls=FriendlyGroup)
@click.version_option(package_name="image-assistant")
def main() -> None:
    """Image Assistant: your Photos library, in storage you own."""


for command in (
    serve,
    worker,
    thumbnails,
    db,
    users,
    devices,
    mount_command,
    unmount_command,
    migrate_storage_command,
    publish_command,
    agent,
):
    main.add_command(command)
