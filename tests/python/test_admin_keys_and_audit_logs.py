"""The official Python SDK (`openai`) against orgcerts: admin API keys and the audit log, with
strict response validation."""

import openai
import pytest
from conftest import make_ca


def test_admin_api_keys_create_list_retrieve_delete(client):
    keys = client.admin.organization.admin_api_keys
    created = keys.create(name="ci", expires_in_seconds=3600)
    assert created.id.startswith("key_")
    assert created.value.startswith("sk-admin-")
    assert created.expires_at == created.created_at + 3600
    assert created.owner.role == "owner"

    listed = [k.id for k in keys.list(limit=1)]  # follows pages by itself
    assert created.id in listed and len(listed) == 2

    got = keys.retrieve(created.id)
    assert got.redacted_value == created.redacted_value
    assert created.value[-4:] in got.redacted_value

    deleted = keys.delete(created.id)
    assert deleted.id == created.id and deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        keys.retrieve(created.id)
    with pytest.raises(openai.BadRequestError):
        keys.create(name="x", expires_in_seconds=0)


def test_audit_logs_list_and_filter_with_auto_pagination(client):
    org = client.admin.organization
    ids = [
        org.certificates.create(certificate=make_ca(f"a{i}"), name=f"a{i}").id for i in range(3)
    ]
    org.certificates.activate(certificate_ids=ids)

    entries = list(org.audit_logs.list(limit=2))  # several pages
    types = [e.type for e in entries]
    assert types[0] == "certificates.activated"
    assert types.count("certificate.created") == 3
    assert types[-1] == "api_key.created"

    created = list(org.audit_logs.list(event_types=["certificate.created"], limit=1))
    assert [e.type for e in created] == ["certificate.created"] * 3
    assert {e.certificate_created.id for e in created} == set(ids)

    touched = list(org.audit_logs.list(resource_ids=[ids[0]]))
    assert [e.type for e in touched] == ["certificates.activated", "certificate.created"]
    newest = touched[0].effective_at
    assert list(org.audit_logs.list(effective_at={"gt": newest})) == []
    assert len(list(org.audit_logs.list(effective_at={"gte": newest, "lte": newest}))) >= 1
    with pytest.raises(openai.BadRequestError):
        org.audit_logs.list(after="audit_log-unknown")

    # A list that begins with `before`: the SDK pages on with `after` and keeps `before`, and
    # orgcerts answers the entries between the two (none here), so iterating ends cleanly.
    newer = org.audit_logs.list(before=entries[-1].id, limit=2)
    assert [e.id for e in newer.data] == [e.id for e in entries[-3:-1]]
    assert newer.has_more is True
    assert [e.id for e in newer] == [e.id for e in entries[-3:-1]]
