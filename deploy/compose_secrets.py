"""The compose stack's secrets, made once by the one-shot `init-secrets` service into a volume.

Each file belongs to the one container user that needs it, so the gateway cannot read the
migration owner's password and a domain service cannot read the signing private key. Files
that already exist are kept (a restart changes nothing; delete the volume to rotate).
`python -m deploy.compose_secrets --dir /run/hub-secrets` (as root, to set owners).
"""

import argparse
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from shared.auth import ensure_signing_keypair

SERVICES = ("referrals", "actionplans", "metrics", "gateway")
# Container users: the image's numeric users (deploy/Dockerfile) and the official images'.
GATEWAY_UID = 10001
SERVICE_UID = 10002
MIGRATE_UID = 10003
POSTGRES_UID = 70  # postgres:*-alpine
REDIS_UID = 999  # redis:*-alpine


@dataclass(frozen=True)
class SecretFile:
    name: str
    uid: int
    gid: int
    mode: int


def layout() -> list[SecretFile]:
    """Who may read what: owner passwords for migrations, app passwords for the apps; the
    postgres group reads both, to create the roles on its first start."""
    files = [
        SecretFile("postgres_password", POSTGRES_UID, POSTGRES_UID, 0o400),
        SecretFile("redis_password", GATEWAY_UID, 0, 0o400),
        SecretFile("redis.conf", REDIS_UID, 0, 0o400),
        SecretFile("signing-key.pem", GATEWAY_UID, 0, 0o400),
        SecretFile("signing-key.pub.pem", 0, 0, 0o444),
    ]
    for service in SERVICES:
        app_uid = GATEWAY_UID if service == "gateway" else SERVICE_UID
        files.append(SecretFile(f"{service}_owner_password", MIGRATE_UID, POSTGRES_UID, 0o440))
        files.append(SecretFile(f"{service}_app_password", app_uid, POSTGRES_UID, 0o440))
    return files


def create_secrets(directory: Path, *, set_owners: bool) -> list[SecretFile]:
    """Write every missing secret, then give each file its owner and mode."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    for file in layout():
        path = directory / file.name
        if file.name.endswith("password") and not path.exists():
            path.write_text(secrets.token_urlsafe(32))
    redis_conf = directory / "redis.conf"
    if not redis_conf.exists():
        password = (directory / "redis_password").read_text()
        redis_conf.write_text(f'requirepass "{password}"\nsave ""\nappendonly no\n')
    ensure_signing_keypair(directory)
    for file in layout():
        path = directory / file.name
        if set_owners:
            os.chown(path, file.uid, file.gid)
        path.chmod(file.mode)
    return layout()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.compose_secrets")
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    set_owners = os.geteuid() == 0
    create_secrets(args.dir, set_owners=set_owners)
    sys.stdout.write(f"secrets ready in {args.dir} (owners set: {set_owners})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
