"""`pfdo-devtoken --role parent --sub parent-1`: print a development token (local use only)."""

from __future__ import annotations

import argparse

from ..settings import ServiceSettings
from .devkeys import DevKeys
from .principal import Role


def main(argv: list[str] | None = None) -> None:
    settings = ServiceSettings()
    parser = argparse.ArgumentParser(description="Mint a development bearer token.")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--sub", required=True, help="subject (account id)")
    parser.add_argument("--municipality", help="municipality code (operators)")
    parser.add_argument("--provider-id", help="provider id (provider staff)")
    parser.add_argument("--ttl", type=int, default=3600,
                        help=f"lifetime in seconds (at most jwt_max_lifetime_s, {settings.jwt_max_lifetime_s})")
    parser.add_argument("--keys-dir", default=settings.dev_keys_dir)
    args = parser.parse_args(argv)
    if not 1 <= args.ttl <= settings.jwt_max_lifetime_s:
        parser.error(f"--ttl must be between 1 and {settings.jwt_max_lifetime_s} s: the services refuse longer-lived tokens")
    keys = DevKeys(args.keys_dir)
    print(
        keys.mint(
            sub=args.sub, role=args.role, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
            ttl_s=args.ttl, municipality=args.municipality, provider_id=args.provider_id,
        )
    )


if __name__ == "__main__":
    main()
