/**
 * The import-direction check (issue #12): data flows one way, connectors → rules → watch →
 * incidents → queue → triage → notify, and no import runs back, type-only imports included.
 * Beneath the stages sit the shared parts every stage may use (util, telemetry, the tool contract,
 * exec, config/parts, keys); above them the composition (daemon, registry, config assembled from
 * the lists, cli, http, mcp), which no stage may import. No cycles anywhere.
 * Run: npm run depcheck (tools/depcheck holds dependency-cruiser with the TypeScript 5 it parses with).
 */
const stages = ['connectors', 'rules', 'watch', 'incidents', 'queue', 'triage', 'notify'];
const base = '^src/(util|telemetry|tools)/|^src/(exec|keys)\\.ts$|^src/config/parts\\.ts$';
const composition = '^src/(http|mcp|cli)/|^src/(daemon|registry|cli)\\.ts$|^src/config/(schema|load)\\.ts$';

const forbidden = [
  { name: 'no-cycles', severity: 'error', comment: 'an import cycle: two modules that cannot be understood (or tested) apart', from: {}, to: { circular: true } },
  {
    name: 'base-imports-no-stage',
    severity: 'error',
    comment: 'shared parts are beneath every stage: they import none',
    from: { path: base },
    to: { path: `^src/(${stages.join('|')})/|${composition}` },
  },
];
stages.forEach((stage, i) => {
  const later = stages.slice(i + 1);
  if (later.length)
    forbidden.push({
      name: `${stage}-imports-no-later-stage`,
      severity: 'error',
      comment: `${stage} comes before ${later.join(', ')}: it hands its value on and never reaches forward`,
      from: { path: `^src/${stage}/` },
      to: { path: `^src/(${later.join('|')})/` },
    });
  forbidden.push({
    name: `${stage}-imports-no-composition`,
    severity: 'error',
    comment: 'stages are built and wired by the composition (daemon, registry, cli, http, mcp), never the reverse',
    from: { path: `^src/${stage}/` },
    to: { path: composition },
  });
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
