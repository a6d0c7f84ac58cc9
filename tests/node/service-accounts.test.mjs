// The official Node SDK (`openai` from npm) against orgcerts: every method of a project's
// service accounts and API keys, `for await` auto-pagination included. The Node SDK validates
// nothing it receives, so every field of every object is checked here: its presence, its type,
// and nothing extra.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { Server } from './server.mjs';

const ACCOUNT_ID = /^svc_acct_[0-9A-Za-z]{24}$/;
const KEY_ID = /^key_[0-9A-Za-z]{24}$/;
const SECRET = /^sk-svcacct-[0-9A-Za-z]{64}$/;

function isInt(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

function assertKeys(object, keys, what) {
  assert.deepEqual(Object.keys(object).sort(), [...keys].sort(), `the fields of ${what}`);
}

/** A service account as retrieve, update and list return it. */
function assertAccount(account) {
  assertKeys(account, ['object', 'id', 'name', 'role', 'created_at'], 'a service account');
  assert.equal(account.object, 'organization.project.service_account');
  assert.match(account.id, ACCOUNT_ID);
  assert.equal(typeof account.name, 'string');
  assert.ok(['owner', 'member', 'none'].includes(account.role), account.role);
  assert.ok(isInt(account.created_at));
}

/** A new key with its one-time value (create's `api_key`, and the create-key answer). */
function assertNewKey(key) {
  assertKeys(key, ['object', 'value', 'name', 'created_at', 'id'], 'a new service account key');
  assert.equal(key.object, 'organization.project.service_account.api_key');
  assert.match(key.value, SECRET);
  assert.equal(typeof key.name, 'string');
  assert.ok(isInt(key.created_at));
  assert.match(key.id, KEY_ID);
}

/** A project API key as list and retrieve return it. */
function assertProjectKey(key) {
  const fields = ['object', 'redacted_value', 'name', 'created_at', 'last_used_at', 'id',
    'owner_project_access', 'owner'];
  assertKeys(key, fields, 'a project API key');
  assert.equal(key.object, 'organization.project.api_key');
  assert.match(key.redacted_value, /^sk-svcacct-[0-9A-Za-z]{2}\.\.\.[0-9A-Za-z]{4}$/);
  assert.equal(typeof key.name, 'string');
  assert.ok(isInt(key.created_at));
  assert.ok(key.last_used_at === null || isInt(key.last_used_at));
  assert.match(key.id, KEY_ID);
  assert.ok(['active', 'inactive'].includes(key.owner_project_access));
  assertKeys(key.owner, ['type', 'service_account'], 'a key owner');
  assert.equal(key.owner.type, 'service_account');
  assertKeys(key.owner.service_account, ['id', 'name', 'created_at', 'role'], 'an owner account');
  assert.match(key.owner.service_account.id, ACCOUNT_ID);
  assert.ok(isInt(key.owner.service_account.created_at));
}

function assertList(body, assertItem) {
  assertKeys(body, ['object', 'data', 'first_id', 'last_id', 'has_more'], 'a list');
  assert.equal(body.object, 'list');
  body.data.forEach(assertItem);
  assert.equal(body.first_id, body.data[0]?.id ?? null);
  assert.equal(body.last_id, body.data.at(-1)?.id ?? null);
  assert.equal(typeof body.has_more, 'boolean');
}

async function rejects(promise, ErrorClass, status) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `${err}`);
    assert.equal(err.status, status);
    assert.match(err.requestID, /^req_[0-9a-f]{32}$/);
    return true;
  });
}

describe('official Node SDK: service accounts and project API keys', () => {
  let server;
  let projects;

  before(async () => {
    server = await Server.start();
    const client = new OpenAI({
      adminAPIKey: server.key,
      apiKey: 'unused-by-admin-routes',
      baseURL: server.baseURL,
      maxRetries: 0,
    });
    projects = client.admin.organization.projects;
  });

  after(async () => {
    await server?.stop();
  });

  test('service accounts: create, list (for await), retrieve, update, create a key, delete', async () => {
    const project = (await projects.create({ name: 'Node apps' })).id;
    const accounts = projects.serviceAccounts;
    const created = await accounts.create(project, { name: 'Deployer' });
    assertKeys(created, ['object', 'id', 'name', 'role', 'created_at', 'api_key'], 'a created account');
    assert.equal(created.role, 'member');
    assertNewKey(created.api_key);
    assert.equal(created.api_key.name, 'Secret Key');

    const ids = [created.id];
    for (let i = 0; i < 4; i += 1) ids.push((await accounts.create(project, { name: `bot ${i}` })).id);
    const listed = [];
    for await (const account of accounts.list(project, { limit: 2 })) {
      assertAccount(account);
      listed.push(account.id);
    }
    assert.deepEqual(listed, ids);
    const page = await accounts.list(project, { limit: 2 });
    assertList(page.body, assertAccount);

    const got = await accounts.retrieve(created.id, { project_id: project });
    assertAccount(got);
    assert.equal(got.name, 'Deployer');
    const updated = await accounts.update(created.id, { project_id: project, name: 'Release', role: 'owner' });
    assertAccount(updated);
    assert.deepEqual([updated.name, updated.role], ['Release', 'owner']);

    const key = await accounts.apiKeys.create(created.id, { project_id: project, name: 'ci' });
    assertNewKey(key);
    assert.equal(key.name, 'ci');

    const alone = await accounts.create(project, { name: 'Later', create_service_account_only: true });
    assert.deepEqual([alone.role, alone.api_key], ['none', null]);

    const deleted = await accounts.delete(ids[1], { project_id: project });
    assert.deepEqual(deleted, { object: 'organization.project.service_account.deleted', id: ids[1], deleted: true });
    await rejects(accounts.retrieve(ids[1], { project_id: project }), OpenAI.NotFoundError, 404);
    await rejects(accounts.create(project, { name: '' }), OpenAI.BadRequestError, 400);
  });

  test('project API keys: list (for await, filtered), retrieve, delete; archived projects', async () => {
    const project = (await projects.create({ name: 'Node keys' })).id;
    const owner = await projects.serviceAccounts.create(project, { name: 'Owner' });
    const ids = [owner.api_key.id];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await projects.serviceAccounts.apiKeys.create(owner.id, { project_id: project })).id);
    }
    const keys = projects.apiKeys;
    const listed = [];
    for await (const key of keys.list(project, { limit: 3 })) {
      assertProjectKey(key);
      assert.equal(key.owner.service_account.id, owner.id);
      listed.push(key.id);
    }
    assert.deepEqual(listed, ids);
    const page = await keys.list(project, { owner_project_access: 'inactive' });
    assertList(page.body, assertProjectKey);
    assert.deepEqual(page.data, []);

    const got = await keys.retrieve(ids[2], { project_id: project });
    assertProjectKey(got);
    assert.ok(!JSON.stringify(got).includes(owner.api_key.value), 'never the secret');
    const deleted = await keys.delete(ids[2], { project_id: project });
    assert.deepEqual(deleted, { object: 'organization.project.api_key.deleted', id: ids[2], deleted: true });
    await rejects(keys.retrieve(ids[2], { project_id: project }), OpenAI.NotFoundError, 404);

    await projects.archive(project);
    await rejects(projects.serviceAccounts.list(project), OpenAI.BadRequestError, 400);
    const archived = await keys.list(project);
    assert.deepEqual(archived.data.map((k) => k.owner_project_access), ['inactive', 'inactive', 'inactive']);
    await projects.serviceAccounts.delete(owner.id, { project_id: project });
    assert.deepEqual((await keys.list(project)).data, []);
  });
});
