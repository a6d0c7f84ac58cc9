// The official Node SDK (`openai` from npm) against orgcerts: every certificate, project, admin
// API key and audit log method, auto-pagination across pages included. The Node SDK validates nothing it receives, so
// every field of every object is checked here: its presence, its type, and nothing extra.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { Server, makeCA } from './server.mjs';

const CERT_ID = /^cert_[0-9A-Za-z]{24}$/;
const PROJECT_ID = /^proj_[0-9A-Za-z]{24}$/;
const KEY_ID = /^key_[0-9A-Za-z]{24}$/;
const AUDIT_LOG_ID = /^audit_log-[0-9A-Za-z]{24}$/;

function isInt(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

function assertKeys(object, keys, what) {
  assert.deepEqual(Object.keys(object).sort(), [...keys].sort(), `the fields of ${what}`);
}

/**
 * A certificate as upload/get/modify (object "certificate", no active) or a list/activation
 * item (its own object, with active) return it.
 */
function assertCertificate(cert, { object, content = false }) {
  const listed = object !== 'certificate';
  assertKeys(
    cert,
    ['object', 'id', 'name', 'created_at', 'certificate_details', ...(listed ? ['active'] : [])],
    object,
  );
  assert.equal(cert.object, object);
  assert.match(cert.id, CERT_ID);
  assert.ok(cert.name === null || typeof cert.name === 'string', `name: ${cert.name}`);
  assert.ok(isInt(cert.created_at), `created_at: ${cert.created_at}`);
  if (listed) assert.equal(typeof cert.active, 'boolean');
  const details = cert.certificate_details;
  assertKeys(details, ['valid_at', 'expires_at', ...(content ? ['content'] : [])], 'details');
  assert.ok(isInt(details.valid_at) && isInt(details.expires_at));
  assert.ok(details.valid_at < details.expires_at);
  if (content) {
    assert.equal(typeof details.content, 'string');
    assert.match(details.content, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  }
}

function assertProject(project, { residency = false } = {}) {
  const keys = ['id', 'object', 'name', 'created_at', 'archived_at', 'status', 'external_key_id'];
  assertKeys(project, residency ? [...keys, 'residency'] : keys, 'a project');
  assert.match(project.id, PROJECT_ID);
  assert.equal(project.object, 'organization.project');
  assert.ok(project.name === null || typeof project.name === 'string');
  assert.ok(isInt(project.created_at));
  assert.ok(['active', 'archived'].includes(project.status), project.status);
  if (project.status === 'active') assert.equal(project.archived_at, null);
  else assert.ok(isInt(project.archived_at) && project.archived_at >= project.created_at);
  assert.ok(project.external_key_id === null || typeof project.external_key_id === 'string');
  if (residency) assert.equal(typeof project.residency, 'string');
}

/** An admin API key as list/retrieve return it, or create (with its one-time `value`). */
function assertAdminKey(key, { value = false } = {}) {
  const keys = ['object', 'id', 'name', 'redacted_value', 'created_at', 'expires_at', 'last_used_at', 'owner'];
  assertKeys(key, value ? [...keys, 'value'] : keys, 'an admin API key');
  assert.equal(key.object, 'organization.admin_api_key');
  assert.match(key.id, KEY_ID);
  assert.equal(typeof key.name, 'string');
  assert.match(key.redacted_value, /^sk-admin-\*{4}[0-9A-Za-z]{4}$/);
  assert.ok(isInt(key.created_at));
  assert.ok(key.expires_at === null || (isInt(key.expires_at) && key.expires_at > key.created_at));
  assert.ok(key.last_used_at === null || isInt(key.last_used_at));
  assertKeys(key.owner, ['type', 'object', 'id', 'name', 'created_at', 'role'], 'a key owner');
  assert.ok(isInt(key.owner.created_at));
  assert.equal(key.owner.role, 'owner');
  if (value) assert.match(key.value, /^sk-admin-[0-9A-Za-z]{48}$/);
}

/** An audit log entry: its fixed fields, and the one payload named after its type. */
function assertAuditLog(entry) {
  assert.match(entry.id, AUDIT_LOG_ID);
  assert.equal(typeof entry.type, 'string');
  assert.ok(isInt(entry.effective_at));
  assert.ok(entry.actor === null || entry.actor.type === 'api_key', JSON.stringify(entry.actor));
  assert.equal(typeof entry[entry.type], 'object', `the ${entry.type} payload`);
  const allowed = ['id', 'type', 'effective_at', 'actor', 'project', entry.type];
  assert.ok(Object.keys(entry).every((k) => allowed.includes(k)), Object.keys(entry).join());
}

/** The body of a cursor page: its envelope, then every item. */
function assertListBody(body, assertItem) {
  assertKeys(body, ['object', 'data', 'first_id', 'last_id', 'has_more'], 'a list');
  assert.equal(body.object, 'list');
  assert.ok(Array.isArray(body.data));
  assert.equal(typeof body.has_more, 'boolean');
  assert.equal(body.first_id, body.data.length ? body.data[0].id : null);
  assert.equal(body.last_id, body.data.length ? body.data.at(-1).id : null);
  body.data.forEach(assertItem);
}

/** An activation or deactivation body: object and data (and the tolerated has_more: false). */
function assertToggleBody(body, object, itemObject, active) {
  assert.equal(body.object, object);
  assert.ok(Object.keys(body).every((k) => ['object', 'data', 'has_more'].includes(k)));
  assert.ok(body.has_more === undefined || body.has_more === false);
  for (const item of body.data) {
    assertCertificate(item, { object: itemObject });
    assert.equal(item.active, active);
  }
}

async function rejects(promise, ErrorClass, status, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `${err}`);
    assert.equal(err.status, status);
    assert.equal(err.code ?? null, code);
    assert.equal(typeof err.message, 'string');
    assert.match(err.requestID, /^req_[0-9a-f]{32}$/);
    return true;
  });
}

describe('official Node SDK', () => {
  let server;
  let client;
  let certs;
  let projects;

  before(async () => {
    server = await Server.start();
    client = new OpenAI({
      adminAPIKey: server.key,
      apiKey: 'unused-by-admin-routes',
      baseURL: server.baseURL,
      maxRetries: 0,
    });
    certs = client.admin.organization.certificates;
    projects = client.admin.organization.projects;
  });

  after(async () => {
    await server?.stop();
  });

  test('certificates: create, retrieve (with content), update, delete', async () => {
    const created = await certs.create({ certificate: makeCA('Node one'), name: 'Node one' });
    assertCertificate(created, { object: 'certificate' });
    assert.equal(created.name, 'Node one');

    const unnamed = await certs.create({ certificate: makeCA('Node unnamed') });
    assertCertificate(unnamed, { object: 'certificate' });
    assert.equal(unnamed.name, null);

    const got = await certs.retrieve(created.id);
    assertCertificate(got, { object: 'certificate' });
    assert.deepEqual(got, created);

    const withContent = await certs.retrieve(created.id, { include: ['content'] });
    assertCertificate(withContent, { object: 'certificate', content: true });

    const renamed = await certs.update(created.id, { name: 'Node renamed' });
    assertCertificate(renamed, { object: 'certificate' });
    assert.equal(renamed.name, 'Node renamed');
    assert.equal(renamed.created_at, created.created_at);
    // The Node SDK sends an empty body with Content-Type: application/json.
    assert.deepEqual(await certs.update(created.id, {}), renamed);

    for (const cert of [created, unnamed]) {
      const deleted = await certs.delete(cert.id);
      assertKeys(deleted, ['object', 'id'], 'a deletion');
      assert.deepEqual(deleted, { object: 'certificate.deleted', id: cert.id });
    }
    await rejects(certs.retrieve(created.id), OpenAI.NotFoundError, 404, null);
  });

  test('certificates: for await pages through every certificate, in both orders', async () => {
    const ids = [];
    for (let i = 0; i < 7; i += 1) {
      ids.push((await certs.create({ certificate: makeCA(`page ${i}`), name: `page ${i}` })).id);
    }
    const before = server.requests.length;
    const asc = [];
    for await (const cert of certs.list({ limit: 3, order: 'asc' })) {
      assertCertificate(cert, { object: 'organization.certificate' });
      assert.equal(cert.active, false);
      asc.push(cert.id);
    }
    assert.deepEqual(asc, ids);
    const pages = (await server.requestsSince(before, 3)).filter((r) => r.method === 'GET');
    assert.equal(pages.length, 3, 'three pages of at most three');
    assert.match(pages[1].path, /^\/v1\/organization\/certificates$/);

    const desc = [];
    for await (const cert of certs.list({ limit: 2 })) desc.push(cert.id);
    assert.deepEqual(desc, [...ids].reverse(), 'newest first by default');

    const page = await certs.list({ limit: 3, order: 'asc' });
    assertListBody(page.body, (c) => assertCertificate(c, { object: 'organization.certificate' }));
    assert.equal(page.body.has_more, true);
    assert.ok(page.hasNextPage());
    const second = await page.getNextPage();
    assert.deepEqual(second.data.map((c) => c.id), ids.slice(3, 6));
    const last = await (await second.getNextPage());
    assertListBody(last.body, (c) => assertCertificate(c, { object: 'organization.certificate' }));
    assert.equal(last.body.has_more, false);
    assert.equal(last.hasNextPage(), false);

    for (const id of ids) await certs.delete(id);
  });

  test('certificates: activate and deactivate for the organization', async () => {
    const a = await certs.create({ certificate: makeCA('Node a'), name: 'a' });
    const b = await certs.create({ certificate: makeCA('Node b'), name: 'b' });

    const on = await certs.activate({ certificate_ids: [b.id, a.id, b.id] });
    assertToggleBody(on.body, 'organization.certificate.activation', 'organization.certificate', true);
    assert.deepEqual(on.data.map((c) => c.id), [b.id, a.id], 'request order, duplicates folded');
    const activated = [];
    for await (const cert of certs.activate({ certificate_ids: [a.id] })) activated.push(cert.id);
    assert.deepEqual(activated, [a.id], 'idempotent, and iterable');

    const listed = (await certs.list()).body;
    assertListBody(listed, (c) => assertCertificate(c, { object: 'organization.certificate' }));
    assert.deepEqual(listed.data.map((c) => [c.id, c.active]), [[b.id, true], [a.id, true]]);

    await rejects(certs.delete(a.id), OpenAI.ConflictError, 409, 'certificate_in_use');
    await rejects(
      certs.activate({ certificate_ids: [a.id, 'cert_unknown'] }),
      OpenAI.NotFoundError,
      404,
      null,
    );

    const off = await certs.deactivate({ certificate_ids: [a.id, b.id] });
    assertToggleBody(off.body, 'organization.certificate.deactivation', 'organization.certificate', false);
    assert.deepEqual(off.data.map((c) => c.id), [a.id, b.id]);
    await certs.delete(a.id);
    await certs.delete(b.id);
  });

  test('projects: create, retrieve, update, list (for await), archive', async () => {
    const made = [];
    for (let i = 0; i < 5; i += 1) {
      const project = await projects.create({ name: `Node project ${i}` });
      assertProject(project);
      assert.equal(project.status, 'active');
      made.push(project);
    }
    const resident = await projects.create({
      name: 'Resident',
      residency: 'EU_STORAGE_PROCESSING',
      external_key_id: 'key_node',
    });
    assertProject(resident, { residency: true });
    assert.equal(resident.residency, 'EU_STORAGE_PROCESSING');
    assert.equal(resident.external_key_id, 'key_node');

    const got = await projects.retrieve(made[0].id);
    assertProject(got);
    assert.deepEqual(got, made[0]);

    const renamed = await projects.update(made[0].id, { name: 'Renamed project' });
    assertProject(renamed);
    assert.equal(renamed.name, 'Renamed project');

    const seen = [];
    for await (const project of projects.list({ limit: 2 })) {
      assertProject(project, { residency: project.id === resident.id });
      seen.push(project.id);
    }
    assert.deepEqual(seen, [...made.map((p) => p.id), resident.id], 'oldest first, every page');
    const page = await projects.list({ limit: 2 });
    assertListBody(page.body, (p) => assertProject(p));

    const archived = await projects.archive(made[1].id);
    assertProject(archived);
    assert.equal(archived.status, 'archived');
    const visible = [];
    for await (const project of projects.list()) visible.push(project.id);
    assert.ok(!visible.includes(archived.id), 'archived projects are hidden by default');
    const all = [];
    for await (const project of projects.list({ include_archived: true })) all.push(project.id);
    assert.ok(all.includes(archived.id));

    await rejects(projects.retrieve('proj_unknown'), OpenAI.NotFoundError, 404, null);
  });

  test('project certificates: list (for await), activate, deactivate', async () => {
    const project = await projects.create({ name: 'mTLS project' });
    const ids = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await certs.create({ certificate: makeCA(`proj cert ${i}`) })).id);
    }
    const projectCerts = projects.certificates;

    const on = await projectCerts.activate(project.id, { certificate_ids: [ids[0], ids[3]] });
    assertToggleBody(
      on.body,
      'organization.project.certificate.activation',
      'organization.project.certificate',
      true,
    );

    const listed = [];
    for await (const cert of projectCerts.list(project.id, { limit: 2, order: 'asc' })) {
      assertCertificate(cert, { object: 'organization.project.certificate' });
      listed.push([cert.id, cert.active]);
    }
    assert.deepEqual(
      listed,
      ids.map((id, i) => [id, i === 0 || i === 3]),
      'every certificate of the organization, active at this project',
    );
    const page = await projectCerts.list(project.id);
    assertListBody(page.body, (c) =>
      assertCertificate(c, { object: 'organization.project.certificate' }),
    );
    for await (const cert of certs.list()) assert.equal(cert.active, false, 'not the organization');

    const off = await projectCerts.deactivate(project.id, { certificate_ids: [ids[0]] });
    assertToggleBody(
      off.body,
      'organization.project.certificate.deactivation',
      'organization.project.certificate',
      false,
    );

    await projects.archive(project.id);
    await rejects(
      projectCerts.activate(project.id, { certificate_ids: [ids[0]] }),
      OpenAI.BadRequestError,
      400,
      null,
    );
    const offArchived = await projectCerts.deactivate(project.id, { certificate_ids: [ids[3]] });
    assert.equal(offArchived.data[0].active, false, 'deactivation stays allowed');
    for (const id of ids) await certs.delete(id);
  });

  test('admin API keys: create, retrieve, list (for await), delete', async () => {
    const keys = client.admin.organization.adminAPIKeys;
    const created = await keys.create({ name: 'Node key', expires_in_seconds: 3600 });
    assertAdminKey(created, { value: true });
    assert.equal(created.name, 'Node key');
    assert.equal(created.expires_at, created.created_at + 3600);
    assert.equal(created.redacted_value.slice(-4), created.value.slice(-4));
    const got = await keys.retrieve(created.id);
    assertAdminKey(got);
    assert.equal(got.id, created.id);

    // The new key works as a key.
    const withNewKey = new OpenAI({
      adminAPIKey: created.value,
      apiKey: 'unused',
      baseURL: server.baseURL,
      maxRetries: 0,
    });
    assert.equal((await withNewKey.admin.organization.adminAPIKeys.retrieve(created.id)).id, created.id);

    const more = [];
    for (let i = 0; i < 3; i += 1) more.push((await keys.create({ name: `Node ${i}` })).id);
    const seen = [];
    for await (const key of keys.list({ limit: 2 })) {
      assertAdminKey(key);
      seen.push(key.id);
    }
    assert.equal(new Set(seen).size, seen.length, 'every key once');
    const mine = [created.id, ...more].map((id) => seen.indexOf(id));
    assert.ok(mine.every((i, n) => i >= 0 && (n === 0 || i > mine[n - 1])), 'oldest first');
    const page = await keys.list({ limit: 2, order: 'desc' });
    assertListBody(page.body, (k) => assertAdminKey(k));
    assert.deepEqual(page.data.map((k) => k.id), [more[2], more[1]]);

    for (const id of [created.id, ...more]) {
      const deleted = await keys.delete(id);
      assert.deepEqual(deleted, { object: 'organization.admin_api_key.deleted', id, deleted: true });
    }
    await rejects(keys.retrieve(created.id), OpenAI.NotFoundError, 404, null);
    await rejects(
      withNewKey.admin.organization.adminAPIKeys.list(),
      OpenAI.AuthenticationError,
      401,
      'invalid_api_key',
    );
  });

  test('audit logs: list (for await) with filters and both cursors', async () => {
    const logs = client.admin.organization.auditLogs;
    const cert = await certs.create({ certificate: makeCA('Node audited'), name: 'Node audited' });
    await certs.update(cert.id, { name: 'Node audited again' });
    await certs.delete(cert.id);

    const mine = [];
    for await (const entry of logs.list({ resource_ids: [cert.id], limit: 1 })) {
      assertAuditLog(entry);
      mine.push(entry);
    }
    assert.deepEqual(
      mine.map((e) => e.type),
      ['certificate.deleted', 'certificate.updated', 'certificate.created'],
    );
    assert.deepEqual(mine[2]['certificate.created'], { id: cert.id, name: 'Node audited' });

    const created = [];
    for await (const entry of logs.list({ event_types: ['certificate.created'] })) created.push(entry);
    assert.ok(created.length >= 1 && created.every((e) => e.type === 'certificate.created'));
    const newest = mine[0].effective_at;
    for await (const entry of logs.list({ effective_at: { gt: newest } })) assert.fail(`${entry.id}`);
    const page = await logs.list({ effective_at: { gte: newest, lte: newest }, limit: 100 });
    assertListBody(page.body, assertAuditLog);
    assert.ok(page.data.some((e) => e.id === mine[0].id));

    // A list that begins with `before`: the SDK pages on with `after` and keeps `before`.
    const newer = await logs.list({ before: mine[2].id, limit: 1 });
    assert.deepEqual(newer.data.map((e) => e.type), ['certificate.updated']);
    const walked = [];
    for await (const entry of logs.list({ before: mine[2].id, limit: 1 })) walked.push(entry.id);
    assert.deepEqual(walked, [mine[1].id]);
    await rejects(logs.list({ after: 'audit_log-unknown' }), OpenAI.BadRequestError, 400, null);
  });

  test('errors: bad keys, bad certificates, duplicates', async () => {
    const stranger = new OpenAI({
      adminAPIKey: `sk-admin-${'A'.repeat(48)}`,
      apiKey: 'unused',
      baseURL: server.baseURL,
      maxRetries: 0,
    });
    await rejects(
      stranger.admin.organization.certificates.list(),
      OpenAI.AuthenticationError,
      401,
      'invalid_api_key',
    );
    await rejects(
      certs.create({ certificate: 'not a certificate' }),
      OpenAI.BadRequestError,
      400,
      'mtls_certificate_invalid',
    );
    const pem = makeCA('twice');
    const first = await certs.create({ certificate: pem });
    await rejects(
      certs.create({ certificate: pem }),
      OpenAI.ConflictError,
      409,
      'certificate_already_exists',
    );
    await certs.delete(first.id);
  });
});
