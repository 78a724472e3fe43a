/**
 * Pure parsers for zpool output → PoolHealth / PoolUsage (see types.ts). No I/O here: the caller
 * runs zpool and hands over its stdout. Each throws ZpoolParseError for output that is not zpool's.
 */
export { ZpoolParseError, parseZpoolStatusText } from './parse-status-text.ts';
export { parseZpoolStatusJson } from './parse-status-json.ts';
export { parseZpoolList, parseZpoolListJson } from './parse-list.ts';
