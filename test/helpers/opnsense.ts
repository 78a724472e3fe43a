/**
 * An OPNsense firewall on loopback (test/helpers/lab-api.ts: real TLS, the Basic header checked on
 * every call, any method but GET fails the test). Interfaces come from the real overview capture in
 * ../shared/fixtures/opnsense (its records, served as the JSON array the API answers; the publisher
 * re-keyed them by device) plus one derived record, the trunk ax0 those VLANs ride on. The other
 * endpoints answer with the stand-ins in test/fixtures-derived/opnsense, written from opnsense/core's
 * controllers: no attributable capture of them exists (see that folder's SOURCES.md).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFixture } from './fixtures.ts';
import { startLabApi, testCertificate, type LabApi } from './lab-api.ts';

const DERIVED = fileURLToPath(new URL('../fixtures-derived/opnsense/', import.meta.url));
/** A stand-in written from opnsense/core's code (see SOURCES.md), parsed fresh each time. */
export function derived<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(DERIVED + name, 'utf8')) as T;
}

export const OPN_KEY = 'labwatchTestKey0000000000000000000000000000000000000';
export const OPN_SECRET = 'labwatchTestSecret/000000000000000000000000000000000+';

type Row = Record<string, unknown>;

/** The real records (wan ax1, ax0_vlan81, igb0, bridge0, ax0_vlan5) and the derived trunk ax0. */
export function overviewRecords(): Row[] {
  const real = JSON.parse(readFixture('opnsense', 'interfaces-overview-export-5-ifaces-keyed-by-device.json')) as Record<string, Row>;
  return [derived<Row>('interfaces-overview-ax0-trunk.item.json'), ...Object.values(real)];
}

export interface OpnsenseStandIn {
  api: LabApi;
  /** the overview records served (scenarios change them) */
  interfaces: Row[];
  /** set a netstat counter string of one device in the overview ("input errors" → "480") */
  counter(device: string, key: string, value: string): void;
  /** answer an endpoint (under /api) with this body */
  set(endpoint: string, body: unknown): void;
  /** the config block for this firewall, pinned to the test certificate */
  block(extra?: Row): Row;
  /** back to the healthy firewall */
  reset(): void;
  close(): Promise<void>;
}

export async function startOpnsense(opts: { expectUnauthorized?: boolean } = {}): Promise<OpnsenseStandIn> {
  const api = await startLabApi({ authorization: `Basic ${Buffer.from(`${OPN_KEY}:${OPN_SECRET}`).toString('base64')}`, ...opts });
  const set = (endpoint: string, body: unknown) => api.route(`/api/${endpoint}`, body as object);
  let interfaces: Row[] = [];
  api.route('/api/interfaces/overview/export', () => interfaces);
  const reset = () => {
    interfaces = overviewRecords();
    set('diagnostics/interface/get_interface_statistics', derived('interface-statistics.json'));
    set('routes/gateway/status', derived('gateway-status.json'));
    set('diagnostics/system/system_resources', derived('system-resources.json'));
    set('diagnostics/system/system_disk', derived('system-disk.json'));
    set('diagnostics/system/system_information', derived('system-information.json'));
    set('core/system/status', derived('system-status-ok.json'));
  };
  reset();
  return {
    api,
    get interfaces() {
      return interfaces;
    },
    counter: (device, key, value) => {
      const r = interfaces.find((i) => i.device === device);
      if (!r) throw new Error(`no interface ${device} in the stand-in`);
      (r.statistics as Row)[key] = value;
    },
    set,
    block: (extra = {}) => ({ url: api.url, tls_fingerprint: testCertificate().fingerprint, timeout: '5s', ...extra }),
    reset,
    close: () => api.close(),
  };
}
