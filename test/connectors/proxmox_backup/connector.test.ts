/** The proxmox_backup connector as labwatch builds it from config: its block, `check`'s probe, readiness and schedule. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { proxmoxBackup } from '../../../src/connectors/proxmox_backup/index.ts';
import type { ConnectorContext } from '../../../src/connectors/types.ts';
import { PBS_SECRET, startPbs, type PbsStandIn } from '../../helpers/proxmox-backup.ts';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined } as never;

describe('the proxmox_backup connector', () => {
  let pbs: PbsStandIn;
  before(async () => {
    pbs = await startPbs();
  });
  after(() => pbs.close());

  const ctx = (extra: Record<string, unknown> = {}, secret: string | null = PBS_SECRET): ConnectorContext => ({
    block: proxmoxBackup.config!.parse(pbs.block(extra)),
    watch: proxmoxBackup.watch!.parse(undefined),
    secrets: secret ? { token_secret_file: secret } : {},
    host: 'labwatch-host',
    log: quiet,
    rules: () => [],
    jitterMs: 0,
  });

  test('check logs in and names the server, its version and datastores', async () => {
    const [probe] = proxmoxBackup.probes!(ctx());
    assert.equal(await probe!.probe(), `Proxmox Backup Server ${pbs.api.url} (version 3.2.7); 2 datastores (main, archive)`);
  });

  test('check names every endpoint the token is refused, and what to grant', async () => {
    pbs.api.fault('/api2/json/nodes/localhost/tasks', { status: 403, reason: 'permission check failed' });
    pbs.api.fault('/api2/json/admin/datastore/archive/groups', { status: 403, reason: 'permission check failed' });
    try {
      const [probe] = proxmoxBackup.probes!(ctx({ token_id: 'labwatch@pbs!monitor' }));
      await assert.rejects(probe!.probe(), (e: Error) => {
        assert.match(e.message, /the token is refused \/nodes\/localhost\/tasks, \/admin\/datastore\/archive\/groups \(HTTP 403\): the token needs Audit on \//);
        assert.match(e.message, /proxmox-backup-manager acl update \/ Audit --auth-id 'labwatch@pbs!monitor'/);
        assert.match(e.message, /proxmox-backup-manager acl update \/ Audit --auth-id labwatch@pbs\b/);
        return true;
      });
    } finally {
      pbs.api.fault('/api2/json/nodes/localhost/tasks', undefined);
      pbs.api.fault('/api2/json/admin/datastore/archive/groups', undefined);
    }
  });

  test('it is ready while /version answers, and says why not otherwise', async () => {
    assert.equal(await proxmoxBackup.ready!(ctx(), AbortSignal.timeout(5000)), null);
    pbs.api.fault('/api2/json/version', { status: 503, reason: 'Service Unavailable' });
    try {
      assert.match(String(await proxmoxBackup.ready!(ctx(), AbortSignal.timeout(5000))), /Proxmox Backup Server .*\/version answered HTTP 503/);
    } finally {
      pbs.api.fault('/api2/json/version', undefined);
    }
  });

  test('it polls every 15 minutes by default, as the server names itself', () => {
    const [s] = proxmoxBackup.collectors!(ctx());
    assert.equal(s!.schedule, '*/15 * * * *');
    assert.equal(s!.collector.name, 'proxmox_backup');
  });

  test('a missing token secret says where to put it', () => {
    assert.throws(() => proxmoxBackup.collectors!(ctx({}, null)), /set proxmox_backup\.token_secret_file .* or LABWATCH_PBS_TOKEN_SECRET/);
  });

  test('the block refuses a PVE-style token id, http://, and a malformed ignore entry, all at once', () => {
    const r = proxmoxBackup.config!.safeParse({ url: 'http://pbs.lab:8007', token_id: 'labwatch@pbs', ignore: ['101'] });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')).sort(), ['ignore.0', 'token_id', 'url']);
  });
});
