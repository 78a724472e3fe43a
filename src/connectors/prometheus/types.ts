/** Shapes of Prometheus' HTTP API (/api/v1) answers, as far as labwatch reads them. */

/** `[unix seconds, "value as a string"]`: Prometheus sends values as strings ("1", "NaN", "+Inf"). */
export type Sample = [number, string];

/** A native histogram sample, as Prometheus 2.40+ may send instead of `value`. */
export interface HistogramSample {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

export interface VectorSeries {
  metric: Record<string, string>;
  value?: Sample;
  histogram?: [number, HistogramSample];
}

export interface MatrixSeries {
  metric: Record<string, string>;
  values?: Sample[];
  histograms?: [number, HistogramSample][];
}

export type QueryData =
  | { resultType: 'vector'; result: VectorSeries[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: Sample }
  | { resultType: 'string'; result: Sample };

/** What every client method returns: the `data` field, and Prometheus' warnings (and infos) if any. */
export interface PrometheusResult<T> {
  data: T;
  warnings: string[];
}

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'firing' | 'pending' | 'inactive' | string;
  activeAt?: string;
  value: string;
}

export interface Rule {
  name: string;
  query: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown' | string;
  lastError?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** alerting rules only */
  state?: 'firing' | 'pending' | 'inactive' | string;
  duration?: number;
  alerts?: Alert[];
  lastEvaluation?: string;
  evaluationTime?: number;
}

export interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
  lastEvaluation?: string;
  evaluationTime?: number;
}

export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown' | string;
  scrapeInterval?: string;
  scrapeTimeout?: string;
}

export interface DroppedTarget {
  discoveredLabels: Record<string, string>;
  scrapePool?: string;
}

export interface TargetsData {
  activeTargets: ActiveTarget[];
  droppedTargets: DroppedTarget[];
}

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}
