"""Operations commands: mounts, moving to other engines, verifying and exporting what is stored."""
