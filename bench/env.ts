// Benchmark settings from the environment.

/** A positive integer from `name`, or `def` when it is not set. */
export function envInt(name: string, def: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}
