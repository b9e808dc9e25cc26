"""The `image-assistant` command: thin wrappers that parse, call the core, and print.

Commands are imported when used: the agent alone (`pip install 'image-assistant[agent]'`) has
none of the server's packages, and a server command run there says what to install.
"""

from __future__ import annotations

import importlib

import click

from image_assistant.cli.common import FriendlyGroup

SERVER_EXTRA_HINT = "this command needs the server's packages: pip install 'image-assistant[server]'"
AGENT_EXTRA_HINT = "this needs the agent's packages: pip install 'image-assistant[agent]'"
AGENT_EXTRA_MODULES = {"osxphotos", "keyring"}

# name -> "module:attribute"; the agent's commands need only the bare package.
COMMANDS = {
    "serve": "image_assistant.cli.server:serve",
    "worker": "image_assistant.cli.server:worker",
    "thumbnails": "image_assistant.cli.server:thumbnails",
    "db": "image_assistant.cli.server:db",
    "users": "image_assistant.cli.accounts:users",
    "devices": "image_assistant.cli.accounts:devices",
    "mount": "image_assistant.cli.operations:mount_command",
    "unmount": "image_assistant.cli.operations:unmount_command",
    "migrate-storage": "image_assistant.cli.operations:migrate_storage_command",
    "migrate-keys": "image_assistant.cli.operations:migrate_keys_command",
    "verify": "image_assistant.cli.operations:verify_command",
    "export": "image_assistant.cli.operations:export_command",
    "publish": "image_assistant.cli.publish:publish_command",
    "agent": "image_assistant.agent.cli:agent",
}


class LazyGroup(FriendlyGroup):
    """Imports a command's module only when that command is listed or run."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            raise click.ClickException(_install_hint(exc)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.startswith("image_assistant"):
                raise
            return _missing_server(cmd_name)
        command: click.Command = getattr(module, attribute)
        return command


def _install_hint(exc: ModuleNotFoundError) -> str:
    """A missing third-party module means a missing extra; ours missing is a real bug."""
    top = (exc.name or "").split(".")[0]
    if not top or top == "image_assistant":
        raise exc
    return AGENT_EXTRA_HINT if top in AGENT_EXTRA_MODULES else SERVER_EXTRA_HINT


def _missing_server(name: str) -> click.Command:
    """A stand-in for a server command whose packages are not installed."""

    def fail() -> None:
        raise click.ClickException(SERVER_EXTRA_HINT)

    return click.Command(
        name,
        callback=fail,
        help="(Needs the server: pip install 'image-assistant[server]'.)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


@click.group(cls=LazyGroup)
@click.version_option(package_name="image-assistant")
def main() -> None:
    """Image Assistant: your Photos library, in storage you own."""
