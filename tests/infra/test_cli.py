"""`labelstack create-admin`: the deploy runbook's first admin, written to the stack's tables."""

from __future__ import annotations

import pytest
from moto import mock_aws

from functions.domain.errors import NotAuthenticated
from infra.cli import main
from infra.local_stack import apply_settings, provision


def test_create_admin_writes_to_the_prefixed_tables_and_prints_a_working_token(capsys):
    with mock_aws():
        apply_settings({"LABELSTACK_TABLE_PREFIX": "labelstack-prod-"})
        provision()
        try:
            assert (
                main(
                    [
                        "create-admin",
                        "--email",
                        "ops@example.com",
                        "--table-prefix",
                        "labelstack-prod-",
                        "--region",
                        "us-east-1",
                    ]
                )
                == 0
            )
            token = next(
                line.split()[-1]
                for line in capsys.readouterr().out.splitlines()
                if line.startswith("api token:")
            )
            from functions.services import identity
            from functions.store.models import UserModel

            assert UserModel.Meta.table_name == "labelstack-prod-users"
            user = identity.authenticate(f"Token {token}")
            assert (user.email, user.role) == ("ops@example.com", "admin")

            # Run again: the same account, a new token; the old one stops working.
            main(["create-admin", "--email", "ops@example.com", "--table-prefix", "labelstack-prod-"])
            second = next(
                line.split()[-1]
                for line in capsys.readouterr().out.splitlines()
                if line.startswith("api token:")
            )
            assert identity.authenticate(f"Token {second}").id == user.id
            assert second != token
            with pytest.raises(NotAuthenticated, match="Invalid token"):
                identity.authenticate(f"Token {token}")
        finally:
            apply_settings({"LABELSTACK_TABLE_PREFIX": "labelstack-"})
