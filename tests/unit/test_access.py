"""Who may do what: permissions on name patterns, principals, the token store."""

from __future__ import annotations

import pytest

from pubsubgo.adapters.wire.tokens import TokenStore
from pubsubgo.auth_config import PermissionSettings, TokenSettings
from pubsubgo.core.access import ANONYMOUS, Action, Permission, Principal, token_digest

PLAINTEXT = "a-long-enough-secret-token"


def principal(*grants: tuple[Action, str]) -> Principal:
    return Principal("someone", tuple(Permission(action, pattern) for action, pattern in grants))


class TestPermissions:
    def test_a_permission_grants_its_action_on_names_its_glob_matches(self) -> None:
        publisher = principal((Action.PUBLISH, "orders-*"))
        assert publisher.may(Action.PUBLISH, "orders-eu")
        assert not publisher.may(Action.PUBLISH, "payroll")
        assert not publisher.may(Action.SUBSCRIBE, "orders-eu")

    def test_admin_includes_publish_and_subscribe(self) -> None:
        admin = principal((Action.ADMIN, "billing-?"))
        assert all(admin.may(action, "billing-1") for action in Action)
        assert not admin.may(Action.PUBLISH, "billing-10")

    def test_patterns_are_case_sensitive_like_names(self) -> None:
        assert not principal((Action.PUBLISH, "orders")).may(Action.PUBLISH, "ORDERS")

    def test_any_permission_on_a_name_is_enough_to_see_it(self) -> None:
        consumer = principal((Action.SUBSCRIBE, "orders*"), (Action.PUBLISH, "audit"))
        assert consumer.visible(["orders", "orders-sub", "payroll", "audit"]) == [
            "orders",
            "orders-sub",
            "audit",
        ]

    def test_the_anonymous_principal_of_auth_off_may_do_everything(self) -> None:
        assert all(ANONYMOUS.may(action, "anything") for action in Action)


class TestTokenSettings:
    def test_a_plaintext_token_is_kept_only_as_its_digest(self) -> None:
        settings = TokenSettings(name="ci", token=PLAINTEXT)
        assert settings.token == token_digest(PLAINTEXT)
        assert PLAINTEXT not in settings.model_dump_json()

    def test_a_digest_is_accepted_as_written_in_any_case(self) -> None:
        digest = token_digest(PLAINTEXT)
        assert TokenSettings(name="ci", token=digest.upper().replace("SHA256", "sha256")).token == (
            digest
        )

    @pytest.mark.parametrize("token", ["short", "sha256:abc", "sha256:" + "g" * 64])
    def test_short_tokens_and_malformed_digests_are_refused(self, token: str) -> None:
        with pytest.raises(ValueError, match="token"):
            TokenSettings(name="ci", token=token)


class TestTokenStore:
    def store(self) -> TokenStore:
        grant = PermissionSettings(action=Action.SUBSCRIBE, pattern="billing-*")
        return TokenStore.of(
            [
                TokenSettings(name="billing", token=PLAINTEXT, permissions=[grant]),
                TokenSettings(name="other", token=token_digest("another-secret-token-1")),
            ]
        )

    def test_a_known_token_finds_its_principal_and_permissions(self) -> None:
        found = self.store().principal(PLAINTEXT)
        assert found is not None
        assert found.name == "billing"
        assert found.may(Action.SUBSCRIBE, "billing-eu")

    def test_a_token_given_as_a_digest_in_the_settings_authenticates_its_plaintext(self) -> None:
        found = self.store().principal("another-secret-token-1")
        assert found is not None
        assert found.name == "other"

    @pytest.mark.parametrize(
        "token", ["", PLAINTEXT + "x", PLAINTEXT[:-1], token_digest(PLAINTEXT)]
    )
    def test_anything_else_is_unknown(self, token: str) -> None:
        assert self.store().principal(token) is None
