/**
 * The read-only HTTPS client every lab API connector uses: the three ways to trust a self-signed
 * node (its CA, a pinned fingerprint, no check), what a refused certificate says, failover to the
 * next URL when a node is down, and errors that name the endpoint and what to change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, type ApiError } from '../../../src/connectors/api-client.ts';
import { trustingAgent, type TlsTrust } from '../../../src/connectors/api-tls.ts';
import { startLabApi, testCertificate, type LabApi } from '../../helpers/lab-api.ts';

const AUTH = 'PVEAPIToken=labwatch@pve!monitor=0f5b5d1e-secret-uuid';

function client(api: LabApi | string[], trust: TlsTrust, timeoutMs = 2000): ApiClient {
  return new ApiClient({
    system: 'Proxmox VE',
    block: 'proxmox',
    urls: Array.isArray(api) ? api : [api.url],
    prefix: '/api2/json',
    authorization: AUTH,
    secret: '0f5b5d1e-secret-uuid',
    agent: trustingAgent(trust, 'proxmox'),
    timeoutMs,
    hints: { auth: 'check proxmox.token_id and the token secret', forbidden: 'give the token PVEAuditor on /' },
  });
}

describe('lab API client', () => {
  let api: LabApi;
  before(async () => {
    api = await startLabApi({ authorization: AUTH });
    api.route('/api2/json/version', { data: { version: '8.2.4', release: '8.2', repoid: 'faa83925c9641325' } });
  });
  after(() => api.close());

  it('trusts the server through its CA (ca_file) and through a pinned fingerprint', async () => {
    const cert = testCertificate();
    assert.equal((await client(api, { ca_file: cert.caFile }).get<{ version: string }>('/version')).version, '8.2.4');
    assert.equal((await client(api, { tls_fingerprint: `sha256 ${cert.fingerprint.toLowerCase()}` }).get<{ version: string }>('/version')).version, '8.2.4');
  });

  it('refuses an untrusted certificate before sending the token, naming the fingerprint to pin', async () => {
    const before = api.calls.length;
    const e = (await client(api, {}).get('/version').catch((x: unknown) => x)) as ApiError;
    assert.equal(e.kind, 'tls');
    assert.match(e.message, new RegExp(`tls_fingerprint: "${testCertificate().fingerprint}"`));
    assert.match(e.message, /ca_file/);
    assert.doesNotMatch(e.message, /pve-root-ca|pvenode/, 'no system\'s own hints unless it gives them');
    assert.equal(api.calls.length, before, 'no request reached the server');
  });

  it('refuses a certificate that does not match the pin, saying both fingerprints', async () => {
    const wrong = 'AA:'.repeat(31) + 'AA';
    const e = (await client(api, { tls_fingerprint: wrong }).get('/version').catch((x: unknown) => x)) as ApiError;
    assert.equal(e.kind, 'tls');
    assert.ok(e.message.includes(testCertificate().fingerprint) && e.message.includes(wrong), e.message);
  });

  it('accepts any certificate with tls_verify: false', async () => {
    assert.equal((await client(api, { tls_verify: false }).get<{ version: string }>('/version')).version, '8.2.4');
  });

  it('names the endpoint, the refused privilege and the fix on 401/403/5xx; never the secret', async () => {
    const c = client(api, { tls_verify: false });
    api.fault('/api2/json/cluster/ha', { status: 403, reason: 'Permission check failed (/, Sys.Audit)' });
    const e403 = (await c.get('/cluster/ha/status/current').catch((x: unknown) => x)) as ApiError;
    assert.equal(e403.kind, 'forbidden');
    assert.match(e403.message, /\/cluster\/ha\/status\/current.*Sys\.Audit.*PVEAuditor on \//);
    api.fault('/api2/json/nodes', { status: 500, reason: 'Internal Server Error', body: '{"data":null,"errors":{"node":"no such node"}}' });
    const e500 = (await c.get('/nodes/pve9/status').catch((x: unknown) => x)) as ApiError;
    assert.equal(e500.kind, 'http');
    assert.match(e500.message, /HTTP 500.*node: no such node/);
    api.fault('/api2/json/nodes', undefined);
    api.fault('/api2/json/cluster/ha', undefined);
    const lab2 = await startLabApi({ authorization: AUTH, expectUnauthorized: true });
    const e401 = (await new ApiClient({ system: 'Proxmox VE', block: 'proxmox', urls: [lab2.url], prefix: '/api2/json', authorization: 'PVEAPIToken=x=wrong-secret', secret: 'wrong-secret', agent: trustingAgent({ tls_verify: false }, 'proxmox'), timeoutMs: 2000, hints: { auth: 'check proxmox.token_id', forbidden: '' } }).get('/version').catch((x: unknown) => x)) as ApiError;
    await lab2.close();
    assert.equal(e401.kind, 'auth');
    assert.match(e401.message, /401 authentication failure.*check proxmox\.token_id/);
    assert.doesNotMatch(e401.message, /wrong-secret/);
  });

  it('goes on to the next URL when a node is down or stalls, and says which URLs failed when none answer', async () => {
    const dead = 'https://127.0.0.1:1';
    assert.equal((await client([dead, api.url], { tls_verify: false }).get<{ version: string }>('/version')).version, '8.2.4');
    const stalled = await startLabApi({ authorization: AUTH });
    stalled.fault('/', 'stall');
    assert.equal((await client([stalled.url, api.url], { tls_verify: false }, 300).get<{ version: string }>('/version')).version, '8.2.4');
    const e = (await client([dead, stalled.url], { tls_verify: false }, 300).get('/version').catch((x: unknown) => x)) as ApiError;
    await stalled.close();
    assert.match(e.message, /no Proxmox VE URL answered.*did not answer within 0\.3 s/);
  });

  it('says what is wrong with a body that is not the API', async () => {
    api.route('/api2/json/html', '<html>login</html>');
    const e = (await client(api, { tls_verify: false }).get('/html').catch((x: unknown) => x)) as ApiError;
    assert.equal(e.kind, 'bad_response');
    assert.match(e.message, /not JSON.*proxmox\.url/);
  });
});
