/** What every command needs: the config (or a clear exit) and the secrets to redact. */
import { ConfigError, loadConfig } from '../config/load.ts';
import { secretValues, type Config } from '../config/schema.ts';

export function configOrExit(file: string | undefined): Config {
  try {
    return loadConfig(file ?? process.env.LABWATCH_CONFIG);
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

