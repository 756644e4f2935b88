"""Drives a running mailpanel through two clients generated from the committed spec,
exactly as generated: openapi-generator's Python client (functions named from the
operationIds) and openapi-python-client's. Each walks the README's path: partner ->
customer -> domain -> account -> password set (Control Panel) -> webmail change ->
client settings, and checks what came back.

Usage: drive.py BASE_URL ADMIN_KEY GENERATED_DIR
"""

import sys
import uuid

BASE, KEY, GENERATED = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [f"{GENERATED}/openapi-generator", f"{GENERATED}/openapi-python-client"]

FIRST = "Fahrrad-Kaffee-Wien-2026"
SECOND = "Gruene-Tomaten-Linz-1999"
THIRD = "Blaue-Donau-Walzer-Graz-1866"


def with_openapi_generator(run: str) -> str:
    import mailpanel_gen as g

    config = g.Configuration(host=BASE, access_token=KEY)
    with g.ApiClient(config) as api:
        partner = g.PartnersApi(api).create_partner(g.CreatePartner(name=f"Reseller {run}"))
        customer = g.CustomersApi(api).create_customer(
            g.CreateCustomer(name="Max Mustermann", partner_id=partner.id, external_ref=f"crm-{run}")
        )
        domain = g.DomainsApi(api).create_domain(
            g.CreateDomain(name=f"gen-{run}.example", customer_id=customer.id)
        )
        account = g.AccountsApi(api).create_account(
            domain.name, g.CreateAccount(local_part="max", password=FIRST, display_name="Max")
        )
        assert account.address == f"max@{domain.name}", account
        assert account.status == g.AccountStatus.ACTIVE, account
        g.PasswordsApi(api).set_password(account.address, g.SetPassword(password=SECOND))
        changed = g.PasswordsApi(api).change_password(
            g.ChangePassword(address=account.address, current_password=SECOND, new_password=THIRD)
        )
        assert changed.status == "ok", changed
        settings = g.ClientSettingsApi(api).get_client_settings(account.address, lang="en")
        assert settings.username == account.address, settings
        assert settings.incoming[0].recommended and settings.incoming[0].port == 993, settings
        assert settings.guidance.language == g.Language.EN, settings
        fetched = g.AccountsApi(api).get_account(account.address)
        assert fetched.password_changed_at >= account.password_changed_at
    return account.address


def with_openapi_python_client(run: str) -> str:
    from mailpanel_client import AuthenticatedClient
    from mailpanel_client.api.accounts import create_account, get_account
    from mailpanel_client.api.client_settings import get_client_settings
    from mailpanel_client.api.customers import create_customer
    from mailpanel_client.api.domains import create_domain
    from mailpanel_client.api.partners import create_partner
    from mailpanel_client.api.passwords import change_password, set_password
    from mailpanel_client.models import (
        Account,
        ChangePassword,
        CreateAccount,
        CreateCustomer,
        CreateDomain,
        CreatePartner,
        GetClientSettingsLang,
        SetPassword,
    )

    client = AuthenticatedClient(base_url=BASE, token=KEY, raise_on_unexpected_status=True)
    with client:
        partner = create_partner.sync(client=client, body=CreatePartner(name=f"Partner {run}"))
        customer = create_customer.sync(
            client=client, body=CreateCustomer(name="Eva Musterfrau", partner_id=partner.id)
        )
        domain = create_domain.sync(
            client=client, body=CreateDomain(name=f"opc-{run}.example", customer_id=customer.id)
        )
        account = create_account.sync(
            domain.name, client=client, body=CreateAccount(local_part="eva", password=FIRST)
        )
        assert isinstance(account, Account), account
        assert account.address == f"eva@{domain.name}", account
        done = set_password.sync_detailed(account.address, client=client, body=SetPassword(password=SECOND))
        assert done.status_code == 204, done
        changed = change_password.sync(
            client=client,
            body=ChangePassword(address=account.address, current_password=SECOND, new_password=THIRD),
        )
        assert changed.status == "ok", changed
        settings = get_client_settings.sync(account.address, client=client, lang=GetClientSettingsLang.DE)
        assert settings.username == account.address, settings
        assert settings.guidance.language == "de", settings
        fetched = get_account.sync(account.address, client=client)
        assert fetched.password_changed_at >= account.password_changed_at
    return account.address


run = uuid.uuid4().hex[:8]
print("openapi-generator (python):", with_openapi_generator(run), "ok")
print("openapi-python-client:", with_openapi_python_client(run), "ok")
