/** What every command needs: the config (or a clear exit) and the secrets to redact. */
import { ConfigError, loadConfig } from '../config/load.ts';
import { secretValues, type Config } from '../config/schema.ts';

/** The config file, with what the command line sets for this node (--role, --host) checked by the same schema. */
export function configOrExit(file: string | undefined, node: { role?: string; host?: string } = {}): Config {
  try {
    const env = { ...process.env, ...(node.role ? { LABWATCH_ROLE: node.role } : {}), ...(node.host ? { LABWATCH_HOST: node.host } : {}) };
    return loadConfig(file ?? process.env.LABWATCH_CONFIG, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`labwatch: invalid configuration\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export function secretsOf(cfg: Config): string[] {
  return secretValues(cfg);
}

