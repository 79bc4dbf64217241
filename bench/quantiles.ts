// Order statistics the benchmarks print.

/** The value at fraction `q` (0..1) of an ascending list (nearest rank below). */
export const quantile = (ascending: readonly number[], q: number): number => ascending[Math.min(ascending.length - 1, Math.floor(q * ascending.length))]!;

/** The median of any list (the mean of the middle two for an even count). */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
