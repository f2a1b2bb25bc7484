// Short ASCII strings by explicit fromCharCode arguments: ~2.5× faster than a loop or a native
// slice for names, tags and keys (measured on Node 20). Returns null when a byte is not ASCII.

const fcc = String.fromCharCode;

/** The `n` bytes at `start` as a string if all are ASCII (`n` < 16), else null. */
export function shortAscii(b: Uint8Array, start: number, n: number): string | null {
  switch (n) {
    case 0:
      return '';
    case 1: {
      const a0 = b[start] as number;
      if ((a0) & 0x80) return null;
      return fcc(a0);
    }
    case 2: {
      const a0 = b[start] as number, a1 = b[start + 1] as number;
      if ((a0 | a1) & 0x80) return null;
      return fcc(a0, a1);
    }
    case 3: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number;
      if ((a0 | a1 | a2) & 0x80) return null;
      return fcc(a0, a1, a2);
    }
    case 4: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number;
      if ((a0 | a1 | a2 | a3) & 0x80) return null;
      return fcc(a0, a1, a2, a3);
    }
    case 5: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number;
      if ((a0 | a1 | a2 | a3 | a4) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4);
    }
    case 6: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5);
    }
    case 7: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6);
    }
    case 8: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7);
    }
    case 9: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8);
    }
    case 10: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number, a9 = b[start + 9] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8 | a9) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9);
    }
    case 11: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number, a9 = b[start + 9] as number, a10 = b[start + 10] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8 | a9 | a10) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
    }
    case 12: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number, a9 = b[start + 9] as number, a10 = b[start + 10] as number, a11 = b[start + 11] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8 | a9 | a10 | a11) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
    }
    case 13: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number, a9 = b[start + 9] as number, a10 = b[start + 10] as number, a11 = b[start + 11] as number, a12 = b[start + 12] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8 | a9 | a10 | a11 | a12) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
    }
    case 14: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number, a9 = b[start + 9] as number, a10 = b[start + 10] as number, a11 = b[start + 11] as number, a12 = b[start + 12] as number, a13 = b[start + 13] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8 | a9 | a10 | a11 | a12 | a13) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13);
    }
    case 15: {
      const a0 = b[start] as number, a1 = b[start + 1] as number, a2 = b[start + 2] as number, a3 = b[start + 3] as number, a4 = b[start + 4] as number, a5 = b[start + 5] as number, a6 = b[start + 6] as number, a7 = b[start + 7] as number, a8 = b[start + 8] as number, a9 = b[start + 9] as number, a10 = b[start + 10] as number, a11 = b[start + 11] as number, a12 = b[start + 12] as number, a13 = b[start + 13] as number, a14 = b[start + 14] as number;
      if ((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7 | a8 | a9 | a10 | a11 | a12 | a13 | a14) & 0x80) return null;
      return fcc(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14);
    }
    default:
      return null;
  }
}
