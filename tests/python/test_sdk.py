"""The official Python SDK (`openai`) against orgcerts, every certificate and project method,
with strict response validation."""

import openai
import pytest
from conftest import make_ca


def upload(client, name):
    return client.admin.organization.certificates.create(certificate=make_ca(name), name=name)


def test_upload_retrieve_update_delete(client):
    certs = client.admin.organization.certificates
    created = upload(client, "My Example Certificate")
    assert created.id.startswith("cert_")
    assert created.object == "certificate"
    assert created.name == "My Example Certificate"
    assert created.certificate_details.expires_at > created.certificate_details.valid_at

    got = certs.retrieve(created.id)
    assert got.id == created.id
    assert got.certificate_details.content is None

    with_content = certs.retrieve(created.id, include=["content"])
    assert with_content.certificate_details.content.startswith("-----BEGIN CERTIFICATE-----\n")

    renamed = certs.update(created.id, name="Renamed")
    assert renamed.name == "Renamed"
    assert certs.retrieve(created.id).name == "Renamed"

    deleted = certs.delete(created.id)
    assert deleted.id == created.id
    assert deleted.object == "certificate.deleted"
    with pytest.raises(openai.NotFoundError):
        certs.retrieve(created.id)


def test_list_auto_paginates_in_both_orders(client):
    ids = [upload(client, f"c{i}").id for i in range(12)]
    certs = client.admin.organization.certificates

    asc = [c.id for c in certs.list(limit=5, order="asc")]
    assert asc == ids
    desc = [c.id for c in certs.list(limit=5)]
    assert desc == list(reversed(ids))

    page = certs.list(limit=5, order="asc")
    assert [c.id for c in page.data] == ids[:5]
    assert page.has_more is True
    assert page.has_next_page()
    second = page.get_next_page()
    assert [c.id for c in second.data] == ids[5:10]
    for item in page.data:
        assert item.object == "organization.certificate"
        assert item.active is False


def test_activate_and_deactivate_at_organization_level(client):
    a = upload(client, "a").id
    b = upload(client, "b").id
    certs = client.admin.organization.certificates
    activated = certs.activate(certificate_ids=[a, b])
    assert [(c.id, c.active) for c in activated] == [(a, True), (b, True)]
    listed = {c.id: c.active for c in certs.list()}
    assert listed == {a: True, b: True}

    deactivated = certs.deactivate(certificate_ids=[a])
    assert [(c.id, c.active) for c in deactivated] == [(a, False)]

    with pytest.raises(openai.ConflictError) as err:
        certs.delete(b)
    assert err.value.code == "certificate_in_use"


def test_projects_and_project_certificates(client):
    projects = client.admin.organization.projects
    project = projects.create(name="Project ABC")
    assert project.id.startswith("proj_")
    assert project.status == "active"
    assert projects.retrieve(project.id).name == "Project ABC"
    assert projects.update(project.id, name="Project DEF").name == "Project DEF"

    names = [f"p{i}" for i in range(4)]
    for name in names:
        projects.create(name=name)
    listed = [p.name for p in projects.list(limit=2)]
    assert listed == ["Project DEF", *names]

    a = upload(client, "a").id
    b = upload(client, "b").id
    scoped = projects.certificates
    activated = scoped.activate(project.id, certificate_ids=[b])
    assert [(c.id, c.active) for c in activated] == [(b, True)]
    state = {c.id: c.active for c in scoped.list(project.id, limit=1)}
    assert state == {a: False, b: True}
    assert [c.object for c in scoped.list(project.id)] == ["organization.project.certificate"] * 2
    deactivated = scoped.deactivate(project.id, certificate_ids=[b])
    assert [(c.id, c.active) for c in deactivated] == [(b, False)]

    archived = projects.archive(project.id)
    assert archived.status == "archived"
    assert archived.archived_at is not None
    assert project.id not in [p.id for p in projects.list()]
    assert project.id in [p.id for p in projects.list(include_archived=True)]


def test_errors_surface_as_typed_sdk_exceptions(client, server):
    certs = client.admin.organization.certificates
    with pytest.raises(openai.BadRequestError) as err:
        certs.create(certificate="not a certificate")
    assert err.value.code == "mtls_certificate_invalid"
    assert err.value.param == "certificate"

    with pytest.raises(openai.BadRequestError) as err:
        certs.create(certificate=make_ca("leaf", ca=False))
    assert err.value.code == "mtls_certificate_invalid"

    pem = make_ca("dup")
    first = certs.create(certificate=pem)
    with pytest.raises(openai.ConflictError) as err:
        certs.create(certificate=pem)
    assert err.value.code == "certificate_already_exists"
    assert first.id in err.value.message

    with pytest.raises(openai.NotFoundError) as err:
        certs.activate(certificate_ids=[first.id, "cert_aaaaaaaaaaaaaaaaaaaaaaaa"])
    assert err.value.param == "certificate_ids"
    assert [c.active for c in certs.list()] == [False]

    with pytest.raises(openai.BadRequestError) as err:
        certs.list(limit=101)
    assert err.value.param == "limit"

    with pytest.raises(openai.NotFoundError):
        client.admin.organization.projects.retrieve("proj_aaaaaaaaaaaaaaaaaaaaaaaa")

    bad = openai.OpenAI(
        admin_api_key="sk-admin-" + "x" * 48,
        api_key="unused",
        base_url=server.base_url,
        max_retries=0,
    )
    with pytest.raises(openai.AuthenticationError) as err:
        bad.admin.organization.certificates.list()
    assert err.value.code == "invalid_api_key"
    assert err.value.request_id.startswith("req_")


def test_conflicts_are_not_retried(server):
    """The SDK retries 409 unless told not to; x-should-retry: false stops it."""
    client = openai.OpenAI(
        admin_api_key=server.key, api_key="unused", base_url=server.base_url, max_retries=3
    )
    pem = make_ca("once")
    client.admin.organization.certificates.create(certificate=pem)
    # The log is read by a thread: wait for the line of the upload rather than assume it.
    before = server.wait_for_requests(1)
    with pytest.raises(openai.ConflictError):
        client.admin.organization.certificates.create(certificate=pem)
    server.wait_for_requests(before + 1)
    import time

    time.sleep(0.3)  # time for a retry, had there been one, to be logged
    after = server.request_count()
    assert after - before == 1
