import { statfs } from 'node:fs/promises';
import { InsufficientStorageError } from '../core/errors.ts';

/** Unless configured, the reserve is the smaller of these: 1 GiB, or 5 % of the disk (small disks keep less). */
export const DEFAULT_MIN_FREE_BYTES = 1024 ** 3;
export const DEFAULT_MIN_FREE_FRACTION = 0.05;
/** statfs is asked at most this often; saves in between use its last answer. */
const CACHE_MS = 1000;

export interface FreeSpaceStatus {
  /** Bytes Quire's user may still write on the disk holding `dir`. */
  freeBytes: number;
  totalBytes: number;
  /** The reserve: writes are refused once free space is below it (0: never). */
  minFreeBytes: number;
  enough: boolean;
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/**
 * The free space on the disk holding `dir`, and whether it is above the reserve Quire keeps: writes stop early, with
 * a 507 that says why, before the disk is full, so that the catalog and the writes in flight still have room.
 * `minFreeBytes` undefined means the default reserve, 0 none.
 */
export class FreeSpace {
  private cached: { at: number; status: Promise<FreeSpaceStatus> } | undefined;

  constructor(
    readonly dir: string,
    private readonly minFreeBytes?: number,
  ) {}

  status(): Promise<FreeSpaceStatus> {
    const now = performance.now();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.status;
    const status = this.measure();
    this.cached = { at: now, status };
    // a failed statfs is not remembered
    status.catch(() => {
      if (this.cached?.status === status) this.cached = undefined;
    });
    return status;
  }

  /** Throws the 507 a write gets when free space is below the reserve. */
  async assertRoom(): Promise<void> {
    if (this.minFreeBytes === 0) return;
    const shortfall = FreeSpace.shortfall(await this.status());
    if (shortfall) throw new InsufficientStorageError(`${shortfall}; nothing was saved, reading still works`);
  }

  /** Why `status` is not enough, in words, or null when it is. */
  static shortfall({ enough, freeBytes, minFreeBytes }: FreeSpaceStatus): string | null {
    if (enough) return null;
    return (
      `only ${formatBytes(freeBytes)} free on the disk holding Quire's documents, less than the ` +
      `${formatBytes(minFreeBytes)} kept in reserve (--min-free-space)`
    );
  }

  private async measure(): Promise<FreeSpaceStatus> {
    const s = await statfs(this.dir);
    const freeBytes = s.bavail * s.bsize;
    const totalBytes = s.blocks * s.bsize;
    const minFreeBytes =
      this.minFreeBytes ?? Math.min(DEFAULT_MIN_FREE_BYTES, Math.floor(totalBytes * DEFAULT_MIN_FREE_FRACTION));
    return { freeBytes, totalBytes, minFreeBytes, enough: freeBytes >= minFreeBytes };
  }
}
