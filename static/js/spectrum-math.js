// The singular values of a square matrix, DOM-free: one-sided Jacobi (Hestenes) — rotate pairs of
// columns until every pair is orthogonal; the columns' norms are then the singular values. Exact
// to float64 rounding for the recurrent matrices of the page (H ≤ 256), in a few sweeps.

/** The singular values of `rows` (an H × H array of arrays), largest first. */
export function singularValues(rows) {
  const n = rows.length;
  // columns of A, each a Float64Array of its n entries
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from(rows, (row) => row[j]));
  for (let sweep = 0; sweep < 60; sweep += 1) {
    let rotated = false;
    for (let p = 0; p < n - 1; p += 1) {
      for (let q = p + 1; q < n; q += 1) {
        const a = cols[p];
        const b = cols[q];
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let k = 0; k < n; k += 1) {
          alpha += a[k] * a[k];
          beta += b[k] * b[k];
          gamma += a[k] * b[k];
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < n; k += 1) {
          const x = a[k];
          const y = b[k];
          a[k] = c * x - s * y;
          b[k] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  return cols.map((col) => Math.hypot(...col)).sort((x, y) => y - x);
}
