"""The official Python SDK (`openai`) against orgcerts: a project's service accounts and API
keys, every method, with strict response validation and auto-pagination."""

import openai
import pytest


def test_service_accounts_every_method(client, server):
    org = client.admin.organization
    project = org.projects.create(name="Apps").id
    accounts = org.projects.service_accounts

    created = accounts.create(project, name="Deployer")
    assert created.id.startswith("svc_acct_") and created.role == "member"
    assert created.api_key is not None
    secret = created.api_key.value
    assert secret.startswith("sk-svcacct-") and created.api_key.name == "Secret Key"

    others = [accounts.create(project, name=f"bot {i}").id for i in range(3)]
    listed = [a.id for a in accounts.list(project, limit=2)]  # follows pages by itself
    assert listed == [created.id, *others]

    got = accounts.retrieve(created.id, project_id=project)
    assert got.name == "Deployer"
    updated = accounts.update(created.id, project_id=project, name="Release bot", role="owner")
    assert (updated.name, updated.role) == ("Release bot", "owner")

    extra = accounts.api_keys.create(created.id, project_id=project, name="ci")
    assert extra.name == "ci" and extra.value.startswith("sk-svcacct-")

    deleted = accounts.delete(others[0], project_id=project)
    assert deleted.id == others[0] and deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        accounts.retrieve(others[0], project_id=project)

    alone = accounts.create(project, name="Later", create_service_account_only=True)
    assert alone.role == "none" and alone.api_key is None

    # The secrets are shown once and never logged.
    log = "".join(server.log)
    assert secret not in log and extra.value not in log


def test_project_api_keys_every_method(client):
    org = client.admin.organization
    project = org.projects.create(name="Apps").id
    accounts = org.projects.service_accounts
    owner = accounts.create(project, name="Deployer")
    key_ids = [owner.api_key.id] + [
        accounts.api_keys.create(owner.id, project_id=project).id for _ in range(2)
    ]
    keys = org.projects.api_keys

    listed = list(keys.list(project, limit=2))
    assert [k.id for k in listed] == key_ids
    first = listed[0]
    assert first.owner.type == "service_account"
    assert first.owner.service_account.id == owner.id
    assert first.owner_project_access == "active"
    assert owner.api_key.value not in first.redacted_value
    assert first.redacted_value.endswith(owner.api_key.value[-4:])
    assert [k.id for k in keys.list(project, owner_project_access="inactive")] == []

    got = keys.retrieve(key_ids[1], project_id=project)
    assert got.id == key_ids[1] and got.name == "Secret Key"
    deleted = keys.delete(key_ids[1], project_id=project)
    assert deleted.id == key_ids[1] and deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        keys.retrieve(key_ids[1], project_id=project)
    assert [k.id for k in keys.list(project)] == [key_ids[0], key_ids[2]]


def test_archived_projects_and_errors(client):
    org = client.admin.organization
    project = org.projects.create(name="Old").id
    accounts = org.projects.service_accounts
    account = accounts.create(project, name="Bot")
    with pytest.raises(openai.BadRequestError):
        accounts.create(project, name="")
    with pytest.raises(openai.BadRequestError):
        accounts.api_keys.create(account.id, project_id=project, scopes=["api.model.request"])
    with pytest.raises(openai.NotFoundError):
        accounts.retrieve("svc_acct_unknown", project_id=project)

    org.projects.archive(project)
    with pytest.raises(openai.BadRequestError) as refused:
        accounts.list(project)
    assert refused.value.body["param"] == "project_id"
    with pytest.raises(openai.BadRequestError):
        accounts.create(project, name="Late")
    # Cleaning up keeps working.
    assert accounts.retrieve(account.id, project_id=project).name == "Bot"
    listed = list(org.projects.api_keys.list(project))
    assert [k.owner_project_access for k in listed] == ["inactive"]
    assert accounts.delete(account.id, project_id=project).deleted is True
    assert list(org.projects.api_keys.list(project)) == []
