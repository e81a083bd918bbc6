// Reconciliation: the broker is the source of truth. The runner's position (the market core's, built
// from fills) is compared with the broker's position report. A report that cannot be read is never
// taken for "flat": the result says so and the runner halts. A difference is either adopted (the runner
// takes the broker's position) or flattened (the broker is brought back to the runner's position) per
// live.manual_trades; a broker position the market core cannot hold (other than 0 or ±units) is
// always brought to the nearest one it can.
import type { Broker, PositionReport } from './broker.js';
import { BrokerAuthError, unitsOf } from './broker.js';

export type ManualTrades = 'adopt' | 'flatten';

export type ReconcileAction =
  | { kind: 'none' }
  | { kind: 'halt'; reason: string }
  /** Take the broker's position locally (side −1/0/+1 at its average price). */
  | { kind: 'adopt'; side: -1 | 0 | 1; price: number | null }
  /** Send an order of `units` to bring the broker to `target` units, then take side of target locally. */
  | { kind: 'order'; units: number; target: number };

export interface Reconciliation {
  ok: boolean;
  brokerUnits: number | null;
  localUnits: number;
  discrepancy: string | null;
  action: ReconcileAction;
  report: PositionReport | null;
}

export async function reconcile(broker: Broker, instrument: string, localUnits: number, unitSize: number, mode: ManualTrades): Promise<Reconciliation> {
  let positions: PositionReport[];
  try {
    positions = await broker.openPositions();
  } catch (e) {
    // wrong credentials are a setup error for the user, not a state to trade on
    if (e instanceof BrokerAuthError) throw e;
    const reason = `the broker's position report could not be read (${(e as Error).message}): not assuming flat`;
    return { ok: false, brokerUnits: null, localUnits, discrepancy: reason, action: { kind: 'halt', reason }, report: null };
  }
  const b = unitsOf(positions, instrument);
  const report = positions.find((p) => p.instrument === instrument) ?? null;
  if (b === localUnits) return { ok: true, brokerUnits: b, localUnits, discrepancy: null, action: { kind: 'none' }, report };
  const discrepancy = `broker holds ${b} units of ${instrument}, swt holds ${localUnits}`;
  const representable = b === 0 || Math.abs(b) === unitSize;
  let action: ReconcileAction;
  if (mode === 'adopt' && representable) action = { kind: 'adopt', side: Math.sign(b) as -1 | 0 | 1, price: report?.averagePrice ?? null };
  else {
    const target = mode === 'adopt' ? Math.sign(b) * unitSize : localUnits;
    action = target === b ? { kind: 'adopt', side: Math.sign(b) as -1 | 0 | 1, price: report?.averagePrice ?? null } : { kind: 'order', units: target - b, target };
  }
  return { ok: false, brokerUnits: b, localUnits, discrepancy, action, report };
}
