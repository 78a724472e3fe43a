/**
 * A small uPlot line chart of one or more series from a subject's history. Sized to its container
 * (a phone's width or a card's), coloured from the page's CSS so dark mode reads. uPlot is loaded
 * with the first chart, not with the page (scripts/build.js splits it off): the first screen parses less.
 */
import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import type { HistoryAnswer } from '../http/api/types.ts';
import { html } from './html.ts';

const COLOURS = ['--chart-1', '--chart-2', '--chart-3', '--chart-4'];
type Point = HistoryAnswer['points'][number];

/** Draws the series `keys` of `points` into `el`; returns what undoes it. */
function draw(UPlot: typeof uPlot, el: HTMLElement, points: Point[], keys: string[]): () => void {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  const axis = { stroke: v('--muted'), grid: { stroke: v('--line'), width: 1 }, ticks: { stroke: v('--line'), width: 1 } };
  const data: uPlot.AlignedData = [
    points.map((p) => Date.parse(p.at) / 1000),
    ...keys.map((k) => points.map((p) => (typeof p.values[k] === 'number' ? (p.values[k] as number) : null))),
  ];
  const plot = new UPlot(
    {
      width: Math.max(200, el.clientWidth),
      height: 140,
      legend: { show: keys.length > 1, live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [axis, { ...axis, size: 44 }],
      series: [{}, ...keys.map((k, i) => ({ label: k.replace(/_/g, ' '), stroke: v(COLOURS[i % COLOURS.length]!), width: 2, points: { show: points.length < 40 } }))],
    },
    data,
    el,
  );
  const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 140 }));
  resize.observe(el);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}

export function Chart({ title, history, keys }: { title: string; history: HistoryAnswer; keys: string[] }): VNode | null {
  const box = useRef<HTMLDivElement>(null);
  const present = keys.filter((k) => history.points.some((p) => typeof p.values[k] === 'number'));
  const points = history.points.filter((p) => present.some((k) => typeof p.values[k] === 'number'));
  useEffect(() => {
    const el = box.current;
    if (!el || points.length === 0) return;
    let undo = () => {};
    let gone = false;
    void import('uplot').then(({ default: UPlot }) => {
      if (!gone) undo = draw(UPlot, el, points, present);
    });
    return () => {
      gone = true;
      undo();
    };
  }, [history, keys.join()]);
  if (points.length === 0) return null;
  const last = points[points.length - 1]!;
  // The figure's text says what the chart shows, for those who cannot see it.
  const summary = present.map((k) => (present.length === 1 ? `${last.values[k] ?? '—'}` : `${k.replace(/_/g, ' ')} ${last.values[k] ?? '—'}`)).join(', ');
  return html`<figure class="chart">
    <figcaption>${title} <span class="muted">(${points.length} readings; latest: ${summary})</span></figcaption>
    <div ref=${box} class="plot" data-points=${points.length}></div>
  </figure>`;
}
