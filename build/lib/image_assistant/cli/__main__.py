"""`python -m image_assistant.cli`: the same as the `image-assistant` command."""

from image_assistant.cli import main

main()
