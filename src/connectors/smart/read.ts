/**
 * Reads drives with smartctl, never waking one: devices come from `--scan-open`, and each is
 * read with its scanned `-d TYPE` (autodetection itself can wake a disk) and
 * `-n standby,STANDBY_EXIT`, so a sleeping drive makes smartctl exit with a status of its own
 * instead of spinning up. One reader, shared by the collector and the MCP tools.
 */
import { run, type ExecOptions } from '../../exec.ts';
import { decodeExitStatus, parseScan, parseSmartctl } from './parse.ts';
import type { DriveHealth, ScannedDevice } from './types.ts';

/**
 * The exit status smartctl uses for "in standby, skipped". 3 (bits 0 and 1) never occurs
 * naturally: a command line that does not parse exits with 1 alone.
 */
const STANDBY_EXIT = 3;

export interface SmartReaderOptions {
  /** the smartctl binary (default: "smartctl" on PATH) */
  smartctl?: string;
  timeoutMs?: number;
}

export class SmartReader {
  constructor(private readonly opts: SmartReaderOptions = {}) {}

  #exec(args: string[], signal?: AbortSignal) {
    const o: ExecOptions = { timeoutMs: this.opts.timeoutMs ?? 30_000, maxOutputBytes: 4 * 1024 * 1024, package: 'smartmontools', ...(signal ? { signal } : {}) };
    return run(this.opts.smartctl ?? 'smartctl', args, o);
  }

  async scan(signal?: AbortSignal): Promise<ScannedDevice[]> {
    const r = await this.#exec(['--scan-open', '--json'], signal);
    return parseScan(r.stdout);
  }

  /** Reads one scanned device; a sleeping drive comes back as state "standby". */
  async read(device: ScannedDevice, signal?: AbortSignal): Promise<DriveHealth> {
    const r = await this.#exec(['--json', '-x', '-n', `standby,${STANDBY_EXIT}`, '-d', device.type, device.device], signal);
    return parseSmartctl(r.stdout, r.code ?? -1, device, STANDBY_EXIT);
  }

  /**
   * Every drive the scan finds, read one after another (drives on one controller dislike
   * parallel queries). A drive that cannot be read (unparsable output, a hung device) becomes a
   * drive in state "error" with the reason; it never stops the others from being read.
   */
  async readAll(signal?: AbortSignal): Promise<DriveHealth[]> {
    const out: DriveHealth[] = [];
    for (const d of await this.scan(signal)) {
      if (signal?.aborted) break;
      try {
        out.push(await this.read(d, signal));
      } catch (e) {
        out.push(unreadable(d, (e as Error).message));
      }
    }
    return out;
  }
}

function unreadable(d: ScannedDevice, error: string): DriveHealth {
  return { subject: `disk:${d.device}`, device: d.device, type: d.type, state: 'error', error, exit: decodeExitStatus(0), messages: [] };
}
