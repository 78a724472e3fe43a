/** SMART diagnostic tools, over the same reader the collector uses. */
import * as z from 'zod';
import type { HistoryPoint } from '../types.ts';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import { driveObservation } from './collect.ts';
import type { SmartReader } from './read.ts';
import type { DriveHealth } from './types.ts';

const driveRef = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w:./+,-]+$/, 'a serial, disk:<serial> or a device path as smart_list_drives shows it')
  .describe('the drive: its serial (WD-WCC4E1234567), its subject (disk:WD-WCC4E1234567) or its device path (/dev/sda)');

function matches(d: DriveHealth, ref: string): boolean {
  return d.subject === ref || d.serial === ref || d.device === ref || `disk:${ref}` === d.subject;
}

export function smartTools(reader: SmartReader, history?: (subject: string) => Promise<HistoryPoint[]>): ToolSpec[] {
  const list = defineTool({
    name: 'smart_list_drives',
    title: 'List drives and their SMART health',
    description:
      'Lists every drive smartctl finds on this host with a one-line health summary: subject (disk:<serial>), device, model, ' +
      'state (ok, standby = asleep and deliberately not woken, error = could not be read), temperature, SMART verdict and the ' +
      'counters that predict failure (reallocated, pending, uncorrectable sectors, NVMe media errors and wear). Call this first ' +
      'to see which drives exist; then smart_drive_health for one drive in full. An empty list means smartctl found no drives.',
    input: {},
    annotations: READ_ONLY,
    run: async (_input, signal) => {
      const drives = await reader.readAll(signal);
      if (drives.length === 0) return noData('smartctl found no drives on this host');
      const rows = drives.map((d) => ({ subject: d.subject, ...driveObservation(d, '').values }));
      return ok({ drives: rows }, drives.map((d) => `${d.subject} ${d.device} ${d.state}${d.temperatureC !== undefined ? ` ${d.temperatureC}°C` : ''}`).join('\n'));
    },
  });
  const health = defineTool({
    name: 'smart_drive_health',
    title: "One drive's full SMART health",
    description:
      "Everything smartctl reports about one drive: identity, every ATA attribute (value, worst, threshold, raw, when_failed), " +
      'NVMe health log, SCSI error counters, self-test log summary, error log count and smartctl exit status bits decoded. A drive ' +
      'in standby is reported as such and not woken. Only drives that smart_list_drives shows can be asked for.',
    input: { drive: driveRef },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.subject.startsWith('disk:') ? { drive: a.subject } : undefined),
    run: async ({ drive }, signal) => {
      const drives = await reader.readAll(signal);
      const d = drives.find((x) => matches(x, drive));
      if (!d) return failed(`no drive "${drive}" among the drives smartctl found (${drives.map((x) => x.subject).join(', ') || 'none'}); call smart_list_drives`);
      return ok({ drive: d as unknown as Record<string, unknown> }, `${d.subject} ${d.model ?? ''} state ${d.state}${d.smartPassed === false ? ', SMART FAILING' : ''}`);
    },
  });
  const tools: ToolSpec[] = [list, health];
  if (history) {
    const hist = defineTool({
      name: 'smart_drive_history',
      title: "A drive's recent readings",
      description:
        "The numbers labwatch kept for one drive over time (temperature, reallocated/pending sectors, CRC errors, media errors, wear), " +
        'oldest first, to see change rather than level. Give the subject or serial. No data means labwatch has not read that drive yet.',
      input: { drive: driveRef, last: z.number().int().min(1).max(200).default(30).describe('how many of the newest readings') },
      annotations: READ_ONLY,
      run: async ({ drive, last }) => {
        const subject = drive.startsWith('disk:') ? drive : `disk:${drive}`;
        const points = (await history(subject)).slice(-last);
        if (points.length === 0) return noData(`labwatch has no readings of ${subject} yet`);
        return ok({ subject, readings: points }, `${points.length} readings of ${subject} from ${points[0]!.at} to ${points.at(-1)!.at}`);
      },
    });
    tools.push(hist);
  }
  return tools;
}
