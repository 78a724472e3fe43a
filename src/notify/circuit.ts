/**
 * A circuit per channel: after `threshold` failures in a row the channel is left alone for a
 * cooldown; each failure after that (the channel is known to be down) opens it again with double
 * the cooldown, up to `maxCooldownMs`, so a dead SMTP or ntfy server is not hammered. Jobs that
 * meet an open circuit, or fail while it is tripped, are postponed without spending an attempt:
 * a long outage delays notifications but loses none. One success closes it.
 */
export interface CircuitSettings {
  threshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

export class Circuit {
  #failures = 0;
  #trips = 0;
  #openUntil = 0;

  constructor(
    readonly channel: string,
    private readonly settings: CircuitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the channel may be tried again; 0 when closed. */
  waitMs(): number {
    return Math.max(0, this.#openUntil - this.now());
  }

  success(): void {
    this.#failures = 0;
    this.#trips = 0;
    this.#openUntil = 0;
  }

  /** Records a failure; returns the cooldown when it (re)opened the circuit, else undefined. */
  failure(): number | undefined {
    this.#failures++;
    if (this.#trips === 0 && this.#failures < this.settings.threshold) return undefined;
    const cooldown = Math.min(this.settings.cooldownMs * 2 ** this.#trips, this.settings.maxCooldownMs);
    this.#trips++;
    this.#failures = 0;
    this.#openUntil = this.now() + cooldown;
    return cooldown;
  }
}
