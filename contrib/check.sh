#!/usr/bin/env bash
# Checks the files in contrib/ (for CI: `bash contrib/check.sh`; exits non-zero on any failure):
#   1. promtool check rules  contrib/prometheus/labwatch.rules.yml
#   2. promtool test rules   contrib/prometheus/labwatch.rules.test.yml
#   3. promtool check config contrib/prometheus/scrape.yml
#   4. every labwatch_ metric name and label value the rules and the dashboard use exists in src/
#   5. every PromQL expression in contrib/grafana/labwatch-dashboard.json parses, asked of a
#      throwaway Prometheus (no scrape configs, temp storage, a free port on 127.0.0.1)
# Needs promtool, prometheus and node (>= 18). Override the binaries with PROMTOOL= / PROMETHEUS=.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../src"
rules="$here/prometheus/labwatch.rules.yml"
tests="$here/prometheus/labwatch.rules.test.yml"
scrape="$here/prometheus/scrape.yml"
dashboard="$here/grafana/labwatch-dashboard.json"
PROMTOOL="${PROMTOOL:-promtool}"
PROMETHEUS="${PROMETHEUS:-prometheus}"

for bin in "$PROMTOOL" "$PROMETHEUS" node; do
  command -v "$bin" >/dev/null || { echo "check.sh: $bin not found (on Debian/Ubuntu: apt-get install prometheus; node from nodejs)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
prom_pid=""
cleanup() {
  if [[ -n "$prom_pid" ]] && kill -0 "$prom_pid" 2>/dev/null; then
    kill "$prom_pid" 2>/dev/null || true
    wait "$prom_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== promtool check rules"
"$PROMTOOL" check rules "$rules"

echo "== promtool test rules"
"$PROMTOOL" test rules "$tests"

echo "== promtool check config (scrape.yml)"
"$PROMTOOL" check config "$scrape"

# The checks that need code: metric names and label values (mode "names"), and the dashboard's
# expressions against a running Prometheus (mode "queries").
cat >"$tmp/check.mjs" <<'EOF'
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exitCode = 1; };

/** Every PromQL expression in the dashboard: targets' expr and query variables' label_values selectors. */
function dashboardExprs(file) {
  const d = JSON.parse(readFileSync(file, 'utf8'));
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (typeof t.expr === 'string') out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  const vars = [];
  for (const v of d.templating?.list ?? []) {
    vars.push(v.name);
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query ?? '';
    const m = /^\s*label_values\((.*),\s*\w+\s*\)\s*$/.exec(q);
    if (m) out.push({ where: `variable $${v.name}`, expr: m[1] });
    else if (q) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return { exprs: out, vars };
}

/** Grafana's variables replaced with values Prometheus accepts. */
function substitute(expr, vars) {
  let e = expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h');
  for (const v of vars) e = e.replaceAll(`\${${v}}`, '.*').replaceAll(`[[${v}]]`, '.*').replace(new RegExp(`\\$${v}\\b`, 'g'), '.*');
  return e;
}

function srcText(dir) {
  let text = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) text += srcText(p);
    else if (/\.(ts|js|mjs)$/.test(name)) text += readFileSync(p, 'utf8') + '\n';
  }
  return text;
}

if (mode === 'names') {
  const [srcDir, rulesFile, dashFile] = args;
  const code = srcText(srcDir);
  const declared = new Set([...code.matchAll(/name:\s*'(labwatch_[a-z0-9_]+)'/g)].map((m) => m[1]));
  const defaults = /collectDefaultMetrics\([^)]*prefix:\s*'labwatch_'/.test(code);
  const known = (name) =>
    declared.has(name) ||
    declared.has(name.replace(/_(bucket|sum|count)$/, '')) ||
    (defaults && /^labwatch_(process|nodejs)_/.test(name));
  const texts = [
    { file: 'labwatch.rules.yml', text: readFileSync(rulesFile, 'utf8') },
    ...dashboardExprs(dashFile).exprs.map((x) => ({ file: x.where, text: x.expr })),
  ];
  let names = 0, values = 0;
  for (const { file, text } of texts) {
    for (const m of text.matchAll(/\b(labwatch_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
      names++;
      if (!known(m[1])) fail(`${file}: ${m[1]} is not declared in src/`);
      for (const [, label, op, value] of (m[3] ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        if (['job', 'instance', 'le'].includes(label)) continue;
        const alternatives = op.endsWith('~') ? value.split('|') : [value];
        for (const v of alternatives) {
          if (!/^\w+$/.test(v)) continue; // a real regex: nothing to look up
          values++;
          if (!code.includes(`'${v}'`) && !code.includes(`"${v}"`)) fail(`${file}: ${m[1]}{${label}${op}"${value}"}: '${v}' appears nowhere in src/`);
        }
      }
    }
  }
  if (!process.exitCode) console.log(`ok: ${names} metric references and ${values} label values found in src/ (${declared.size} labwatch_ families declared)`);
} else if (mode === 'queries') {
  const [base, dashFile] = args;
  const { exprs, vars } = dashboardExprs(dashFile);
  if (exprs.length === 0) fail('no expressions found in the dashboard');
  for (const { where, expr } of exprs) {
    const q = substitute(expr, vars);
    if (/\$\w|\$\{|\[\[/.test(q)) { fail(`${where}: unknown variable left in ${q}`); continue; }
    let body;
    try {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(10_000) });
      body = await res.json();
    } catch (e) {
      fail(`${where}: no answer from Prometheus: ${e.message}`);
      continue;
    }
    if (body.status === 'success') console.log(`ok  ${where}: ${q}`);
    else fail(`${where}: ${q}\n      ${body.errorType}: ${body.error}`);
  }
  if (!process.exitCode) console.log(`ok: ${exprs.length} dashboard expressions parse`);
} else if (mode === 'port') {
  const { createServer } = await import('node:net');
  const s = createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });
} else if (mode === 'ready') {
  try {
    const res = await fetch(`${args[0]}/-/ready`, { signal: AbortSignal.timeout(1000) });
    process.exitCode = res.ok ? 0 : 1;
  } catch {
    process.exitCode = 1;
  }
} else {
  fail(`unknown mode ${mode}`);
}
EOF

echo "== metric names and label values exist in src/"
if [[ -d "$src" ]]; then
  node "$tmp/check.mjs" names "$src" "$rules" "$dashboard"
else
  echo "skipped: no src/ next to contrib/"
fi

echo "== dashboard JSON and PromQL expressions"
node -e "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))" "$dashboard"
printf 'global:\n  evaluation_interval: 1m\n' >"$tmp/prometheus.yml"
port="$(node "$tmp/check.mjs" port)"
base="http://127.0.0.1:$port"
"$PROMETHEUS" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$port" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 1 60); do
  if ! kill -0 "$prom_pid" 2>/dev/null; then
    echo "FAIL: prometheus exited at start:" >&2
    tail -n 20 "$tmp/prometheus.log" >&2
    exit 1
  fi
  node "$tmp/check.mjs" ready "$base" && break
  sleep 0.5
done
node "$tmp/check.mjs" ready "$base" || { echo "FAIL: prometheus not ready on $base after 30s" >&2; tail -n 20 "$tmp/prometheus.log" >&2; exit 1; }
node "$tmp/check.mjs" queries "$base" "$dashboard"

echo "== all contrib checks passed"
