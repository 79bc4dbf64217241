// Benchmark settings from the environment.

/** An integer of at least `min` (1 unless given) from `name`, or `def` when it is not set. */
export function envInt(name: string, def: number, min = 1): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer of at least ${min}`);
  return v;
}
