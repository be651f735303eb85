//! Bit-level algorithms over string bytes: counting, searching, bitfields
//! and bitwise operations, as Redis 7.0's `bitops.c` defines them.
//!
//! Pure functions over byte slices, used by the bitmap commands on the
//! owning shard (`command::bitmap`). Bit 0 is the most significant bit of
//! the first byte, as in SETBIT. Range arithmetic (negative indexes,
//! clamping, the BIT/BYTE masks of the edge bytes) follows Redis line by
//! line, including its quirks, so replies match for every input.

/// Number of set bits in `b`.
pub fn popcount(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    let mut n: u64 = chunks
        .by_ref()
        .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")).count_ones() as u64)
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>();
    n
}

/// Redis's `redisBitpos`: the position of the first bit equal to `bit`;
/// when there is none, -1 for a set bit and `8 * len` for a clear one (the
/// string counts as padded with zeros on the right).
pub fn first_bit(b: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0 } else { 0xff };
    match b.iter().position(|&x| x != skip) {
        Some(i) => {
            let x = if bit { b[i] } else { !b[i] };
            (i as i64) * 8 + x.leading_zeros() as i64
        }
        None if bit => -1,
        None => b.len() as i64 * 8,
    }
}

/// A start..=end range over `len` bytes (bits with `isbit`), resolved as
/// BITCOUNT and BITPOS do: negative from the end, clamped, then for bits
/// turned into a byte range plus masks of the bits outside it in the first
/// and last byte. None when empty.
struct Span {
    start: usize,
    end: usize,
    first_mask: u8,
    last_mask: u8,
}

fn resolve(len: usize, mut start: i64, mut end: i64, isbit: bool) -> Option<Span> {
    let mut total = len as i64;
    if isbit {
        total <<= 3;
    }
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if isbit && start <= end {
        first_mask = !(((1u32 << (8 - (start & 7))) - 1) as u8);
        last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    (start <= end).then_some(Span {
        start: start as usize,
        end: end as usize,
        first_mask,
        last_mask,
    })
}

/// BITCOUNT over `start..=end` (bytes, or bits with `isbit`). The caller
/// has already answered 0 for two negative indexes in the wrong order.
pub fn count(b: &[u8], start: i64, end: i64, isbit: bool) -> u64 {
    let Some(s) = resolve(b.len(), start, end, isbit) else {
        return 0;
    };
    let mut n = popcount(&b[s.start..=s.end]);
    if s.first_mask != 0 {
        n -= (b[s.start] & s.first_mask).count_ones() as u64;
    }
    if s.last_mask != 0 {
        n -= (b[s.end] & s.last_mask).count_ones() as u64;
    }
    n
}

/// BITPOS over `start..=end` (bytes, or bits with `isbit`). Without an end
/// given, a search for a clear bit may answer the first bit past the
/// string; with one, it answers -1 instead (Redis's `end_given` rule).
pub fn position(b: &[u8], bit: bool, start: i64, end: i64, isbit: bool, end_given: bool) -> i64 {
    let Some(s) = resolve(b.len(), start, end, isbit) else {
        return -1;
    };
    let masked = |byte: u8, mask: u8| if bit { byte & !mask } else { byte | mask };
    let (mut start, mut bytes) = (s.start, (s.end - s.start + 1) as i64);
    let pos = 'found: {
        if s.first_mask != 0 {
            let mut c = masked(b[start], s.first_mask);
            if s.last_mask != 0 && bytes == 1 {
                c = masked(c, s.last_mask);
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - i64::from(s.last_mask != 0);
        if cur > 0 {
            let pos = first_bit(&b[start..start + cur as usize], bit);
            if bytes == cur || (pos != -1 && pos != cur << 3) {
                break 'found pos;
            }
            start += cur as usize;
            bytes -= cur;
        }
        first_bit(&[masked(b[s.end], s.last_mask)], bit)
    };
    if end_given && !bit && pos == bytes << 3 {
        return -1;
    }
    if pos == -1 {
        -1
    } else {
        pos + ((start as i64) << 3)
    }
}

/// The `bits`-wide unsigned integer at bit `offset`; bytes past the end
/// read as zero.
pub fn get_unsigned(b: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..bits as u64 {
        let o = offset + j;
        let byte = b.get((o >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (o & 7))) & 1) as u64;
    }
    v
}

/// The `bits`-wide two's complement integer at bit `offset`.
pub fn get_signed(b: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(b, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

/// Writes the low `bits` of `value` at bit `offset`; `b` must be long
/// enough.
pub fn set_bits(b: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let bitval = (value >> (bits as u64 - 1 - j)) & 1;
        let o = offset + j;
        let byte = &mut b[(o >> 3) as usize];
        let shift = 7 - (o & 7);
        *byte = (*byte & !(1 << shift)) | ((bitval as u8) << shift);
    }
}

/// BITFIELD's OVERFLOW behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis's `checkUnsignedBitfieldOverflow`: whether `value + incr` leaves
/// the `bits`-wide unsigned range, and the value to store instead (wrapped
/// or saturated) when it does. None when it fits.
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < minincr {
        Some(if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`, like [`unsigned_overflow`] for
/// the `bits`-wide two's complement range.
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let msb = 1u64 << (bits - 1);
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(if ow == Overflow::Sat { min } else { wrap() })
    } else {
        None
    }
}

/// BITOP's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP over `srcs` (missing keys as empty strings): as long as the
/// longest source, shorter ones padded with zero bytes. Empty when every
/// source is.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let at = |s: &[u8], j: usize| s.get(j).copied().unwrap_or(0);
    (0..maxlen)
        .map(|j| {
            let first = at(srcs[0], j);
            match op {
                BitOp::Not => !first,
                BitOp::And => srcs[1..].iter().fold(first, |acc, s| acc & at(s, j)),
                BitOp::Or => srcs[1..].iter().fold(first, |acc, s| acc | at(s, j)),
                BitOp::Xor => srcs[1..].iter().fold(first, |acc, s| acc ^ at(s, j)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference for BITCOUNT/BITPOS ranges.
    fn bit(b: &[u8], i: usize) -> bool {
        b[i / 8] & (0x80 >> (i % 8)) != 0
    }

    #[test]
    fn counts_match_a_bit_by_bit_reference() {
        let data = [0xffu8, 0xf0, 0x00, 0x5a, 0x81];
        assert_eq!(popcount(&data), 8 + 4 + 4 + 2);
        for start in -45i64..45 {
            for end in -45i64..45 {
                let total = 40i64;
                let (mut s, mut e) = (start, end);
                if s < 0 {
                    s += total;
                }
                if e < 0 {
                    e += total;
                }
                let (s, e) = (s.max(0), e.max(0).min(total - 1));
                let want = (s..=e).filter(|&i| bit(&data, i as usize)).count() as u64;
                assert_eq!(count(&data, start, end, true), want, "{start} {end}");
            }
        }
        assert_eq!(count(&data, 1, 2, false), 4);
        assert_eq!(count(&data, -2, -1, false), 6);
        assert_eq!(count(&[], 0, -1, false), 0);
    }

    #[test]
    fn positions_follow_redis() {
        assert_eq!(first_bit(&[0, 0x10], true), 11);
        assert_eq!(first_bit(&[0, 0], true), -1);
        assert_eq!(first_bit(&[0xff, 0xff], false), 16);
        assert_eq!(first_bit(&[0xff, 0xfe], false), 15);
        let d = [0xffu8, 0xf0, 0x00];
        // Clear bit with and without an end: past the string only without.
        assert_eq!(position(&[0xff], false, 0, 0, false, false), 8);
        assert_eq!(position(&[0xff], false, 0, 0, false, true), -1);
        assert_eq!(position(&d, false, 0, -1, false, false), 12);
        assert_eq!(position(&d, true, 1, -1, false, false), 8);
        assert_eq!(position(&d, true, 2, -1, false, false), -1);
        // Bit ranges look only inside the range.
        assert_eq!(position(&d, false, 5, 11, true, true), -1);
        assert_eq!(position(&d, false, 5, 12, true, true), 12);
        assert_eq!(position(&d, true, 12, -1, true, false), -1);
        assert_eq!(position(&d, true, 3, 3, true, true), 3);
        assert_eq!(position(&[], false, 0, -1, false, false), -1);
    }

    #[test]
    fn bitfields_round_trip_at_any_offset() {
        let mut b = vec![0u8; 12];
        for (off, bits, v) in [
            (0u64, 8u32, 0xabu64),
            (7, 5, 23),
            (13, 64, u64::MAX - 5),
            (3, 63, 1 << 62),
        ] {
            set_bits(&mut b, off, bits, v);
            assert_eq!(get_unsigned(&b, off, bits), v);
        }
        let mut b = vec![0u8; 2];
        set_bits(&mut b, 7, 5, 23);
        assert_eq!(b, [0b0000_0001, 0b0111_0000]);
        set_bits(&mut b, 0, 4, (-3i64) as u64);
        assert_eq!(get_signed(&b, 0, 4), -3);
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0, "past the end reads zero");
    }

    #[test]
    fn overflow_rules_match_redis() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, 10, 8, Wrap), None);
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Sat), Some(255));
        assert_eq!(signed_overflow(120, 10, 8, Wrap), Some(-126));
        assert_eq!(signed_overflow(120, 10, 8, Sat), Some(127));
        assert_eq!(signed_overflow(-120, -10, 8, Sat), Some(-128));
        assert_eq!(signed_overflow(-120, -10, 8, Wrap), Some(126));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(300, 0, 8, Wrap), Some(44));
        assert_eq!(signed_overflow(5, 1, 64, Fail), None);
    }

    #[test]
    fn bitop_pads_short_sources() {
        let (a, b) = (&[0xf0u8, 0x0f][..], &[0xffu8][..]);
        assert_eq!(bitop(BitOp::And, &[a, b]), [0xf0, 0x00]);
        assert_eq!(bitop(BitOp::Or, &[a, b]), [0xff, 0x0f]);
        assert_eq!(bitop(BitOp::Xor, &[a, b]), [0x0f, 0x0f]);
        assert_eq!(bitop(BitOp::Not, &[a]), [0x0f, 0xf0]);
        assert!(bitop(BitOp::Or, &[&[], &[]]).is_empty());
    }
}
