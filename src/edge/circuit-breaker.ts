/**
 * A circuit breaker for an upstream: after `failureThreshold` consecutive failed calls the circuit
 * opens and calls fail at once (no waiting on a dead peer); after `cooldownMs` one trial call is
 * let through (half-open): its success closes the circuit, its failure opens it for another
 * cooldown.
 */
import { check } from "../core/errors.js";

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Time the circuit stays open before a trial call (ms). Default 1000. */
  cooldownMs?: number;
  now?: () => number;
  /** Called on every change of state. */
  onChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  state: CircuitState = "closed";
  /** Consecutive failures while closed. */
  failures = 0;
  /** Times the circuit opened. */
  opened = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private readonly now: () => number;
  private readonly onChange?: (state: CircuitState) => void;

  constructor(o: CircuitBreakerOptions = {}) {
    this.failureThreshold = o.failureThreshold ?? 5;
    this.cooldownMs = o.cooldownMs ?? 1000;
    check(
      Number.isInteger(this.failureThreshold) && this.failureThreshold >= 1,
      () => `failureThreshold: expected an integer >= 1, got ${this.failureThreshold}`,
    );
    check(this.cooldownMs >= 0, () => `cooldownMs: expected >= 0, got ${this.cooldownMs}`);
    this.now = o.now ?? (() => performance.now());
    this.onChange = o.onChange;
  }

  /** Whether a call may go out now (a true in half-open state reserves the one trial call). */
  allow(): boolean {
    if (this.state === "closed") return true;
    if (this.state === "open") {
      if (this.now() - this.openedAt < this.cooldownMs) return false;
      this.set("half-open");
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Milliseconds until an open circuit lets a trial call through (0 when not open). */
  retryInMs(): number {
    return this.state === "open" ? Math.max(0, this.cooldownMs - (this.now() - this.openedAt)) : 0;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.state !== "closed") this.set("closed");
  }

  failure(): void {
    this.trialInFlight = false;
    if (this.state === "half-open") {
      this.open();
      return;
    }
    this.failures++;
    if (this.state === "closed" && this.failures >= this.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.opened++;
    this.set("open");
  }

  private set(state: CircuitState): void {
    this.state = state;
    this.onChange?.(state);
  }
}
