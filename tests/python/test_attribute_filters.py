"""The `attribute_filter` extension through the official Python SDK: sent with `extra_body`,
asked for with `include=["attribute_filter"]`, read from the response's extra fields."""

import openai
import pytest
from conftest import make_ca

FILTER = 'subject.common_name == "svc"'
SAN_FILTER = (
    'subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))'
)


def shown_filter(certs, cert_id):
    """The filter as a retrieve that asks for it shows it: present, a string or None."""
    got = certs.retrieve(cert_id, include=["attribute_filter"])
    extra = got.model_extra or {}
    assert "attribute_filter" in extra, got.to_dict()
    assert got.to_dict()["attribute_filter"] == extra["attribute_filter"]
    return extra["attribute_filter"]


def test_set_on_upload_changed_by_update_and_shown_when_asked_for(client):
    certs = client.admin.organization.certificates
    created = certs.create(
        certificate=make_ca("edge"), name="edge", extra_body={"attribute_filter": FILTER}
    )
    assert "attribute_filter" not in created.to_dict()
    assert shown_filter(certs, created.id) == FILTER
    assert "attribute_filter" not in certs.retrieve(created.id).to_dict()

    both = certs.retrieve(created.id, include=["content", "attribute_filter"])
    assert both.certificate_details.content.startswith("-----BEGIN CERTIFICATE-----\n")
    assert both.to_dict()["attribute_filter"] == FILTER

    updated = certs.update(created.id, extra_body={"attribute_filter": SAN_FILTER})
    assert updated.name == "edge"
    assert "attribute_filter" not in updated.to_dict()
    assert shown_filter(certs, created.id) == SAN_FILTER

    renamed = certs.update(created.id, name="renamed")
    assert renamed.name == "renamed"
    assert shown_filter(certs, created.id) == SAN_FILTER

    certs.update(created.id, extra_body={"attribute_filter": None})
    assert shown_filter(certs, created.id) is None
    certs.update(created.id, extra_body={"attribute_filter": FILTER})
    certs.update(created.id, extra_body={"attribute_filter": ""})
    assert shown_filter(certs, created.id) is None

    listed = [c.to_dict() for c in certs.list()]
    assert all("attribute_filter" not in c for c in listed)

    entries = client.admin.organization.audit_logs.list(event_types=["certificate.updated"])
    assert len(entries.data) == 5


def test_an_invalid_filter_is_a_bad_request_and_changes_nothing(client):
    certs = client.admin.organization.certificates
    created = certs.create(
        certificate=make_ca("kept"), extra_body={"attribute_filter": FILTER}
    )
    for bad in ['subject.common_nam == "x"', "subject.common_name", "foo == 1"]:
        with pytest.raises(openai.BadRequestError) as err:
            certs.update(created.id, name="changed", extra_body={"attribute_filter": bad})
        assert err.value.code == "mtls_cel_policy_invalid"
        assert err.value.param == "attribute_filter"
        assert "line 1, column" in err.value.message

        with pytest.raises(openai.BadRequestError) as err:
            certs.create(certificate=make_ca("refused"), extra_body={"attribute_filter": bad})
        assert err.value.code == "mtls_cel_policy_invalid"

    with pytest.raises(openai.BadRequestError) as err:
        certs.update(created.id, extra_body={"attribute_filter": 42})
    assert err.value.param == "attribute_filter"

    assert shown_filter(certs, created.id) == FILTER
    assert certs.retrieve(created.id).name is None
    assert [c.id for c in certs.list()] == [created.id]
