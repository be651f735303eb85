//! HyperLogLog sketches in Redis 7.0's exact string format, so a value
//! copied between Redis and lanner with GET/SET counts the same in both,
//! and PFADD of the same inputs builds byte-identical strings.
//!
//! Layout (`hyperloglog.c`): a 16-byte header — "HYLL", the encoding (0
//! dense, 1 sparse), 3 zero bytes, the cached cardinality (8 bytes, little
//! endian; the top bit of the last byte set = cache invalid) — then the
//! registers. 2^14 registers of 6 bits; an element's MurmurHash64A (seed
//! 0xadc83b19) gives the register (low 14 bits) and the length of the run
//! of zeros ending in a one above them. Dense: the registers packed LSB
//! first, 12288 bytes. Sparse: run-length opcodes ZERO (00xxxxxx, 1-64
//! zero registers), XZERO (01xxxxxx yyyyyyyy, 1-16384) and VAL (1vvvvvxx,
//! 1-4 registers of value 1-32); a sketch becomes dense once a register
//! exceeds 32 or the string would grow past `hll-sparse-max-bytes`.
//!
//! Pure functions over the string's bytes, called by `command::hll` on the
//! owning shard. Every step that edits a sparse string (splitting an
//! opcode, merging neighbouring VALs) is Redis's, in its order, because the
//! bytes must come out identical. The estimator is Ertl's improved one
//! (arXiv:1702.01284) with Redis's tau/sigma series.

use crate::errors;

/// Header bytes before the registers.
pub const HDR: usize = 16;
const P: u32 = 14;
const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Length of a dense sketch.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const SEED: u64 = 0xadc8_3b19;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A sparse sketch whose opcodes do not cover exactly the 2^14 registers
/// (Redis answers `INVALIDOBJ Corrupted HLL object detected`).
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version (MurmurHash64A), reading words little
/// endian as Redis does on every architecture.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in chunks.by_ref() {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `ele` maps to and its run length ("000..1" pattern).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = v as u32;
    regs[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *next |= (v >> (8 - fb)) as u8;
    }
}

/// Sets dense register `i` to `count` if that raises it; true if it did.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn zero_len(op: u8) -> usize {
    (op & 0x3f) as usize + 1
}

/// XZERO's length; `next` is its second byte (0 past the end, where Redis
/// reads the string's terminator).
fn xzero_len(op: u8, next: u8) -> usize {
    ((((op & 0x3f) as usize) << 8) | next as usize) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    (op & 0x3) as usize + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2 | (len as u8 - 1)) | 0x80
}

/// Appends a ZERO or XZERO run of `len` registers.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        seq.push((l >> 8) as u8 | 0x40);
        seq.push((l & 0xff) as u8);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// The opcode at `p` of a sparse string: (registers covered, bytes).
fn op_at(s: &[u8], p: usize) -> (usize, usize) {
    let op = s[p];
    if is_zero(op) {
        (zero_len(op), 1)
    } else if is_val(op) {
        (val_len(op), 1)
    } else {
        (xzero_len(op, s.get(p + 1).copied().unwrap_or(0)), 2)
    }
}

/// A new, empty sketch: sparse, all registers in XZERO runs, cache 0.
pub fn create() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_MAX_LEN);
        push_zeros(&mut s, run);
        left -= run;
    }
    s
}

/// Redis's `isHLLObjectOrReply` checks on a string's bytes: magic, a known
/// encoding, and the exact length of a dense sketch.
pub fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= SPARSE
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

pub fn is_dense(s: &[u8]) -> bool {
    s[4] == DENSE
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// Converts a sparse sketch to dense, keeping the header (and so the
/// cache); a dense one is left alone.
pub fn to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if is_dense(s) {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = DENSE;
    let mut idx = 0;
    let mut p = HDR;
    while p < s.len() {
        let (span, len) = op_at(s, p);
        if is_val(s[p]) {
            if span + idx > REGISTERS {
                break;
            }
            let v = val_value(s[p]);
            for i in idx..idx + span {
                dense_set(&mut dense[HDR..], i, v);
            }
        }
        idx += span;
        p += len;
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *s = dense;
    Ok(())
}

/// Raises register `index` to `count` in a sparse sketch (Redis's
/// `hllSparseSet`), promoting it to dense when `count` does not fit a VAL
/// or the string would grow past `max_bytes`. Ok(true) if the register
/// changed.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let (mut p, mut first, mut span) = (HDR, 0usize, 0usize);
    let mut prev = None;
    while p < s.len() {
        let oplen;
        (span, oplen) = op_at(s, p);
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= s.len() {
        return Err(Corrupt);
    }
    let op = s[p];
    let (zero, xzero) = (is_zero(op), is_xzero(op));
    // Step 2: the trivial in-place updates, else the split sequence.
    let done_in_place = if is_val(op) {
        let old = val_value(op);
        if old >= count {
            return Ok(false);
        }
        span == 1
    } else {
        zero && span == 1
    };
    if done_in_place {
        s[p] = val_op(count, 1);
    } else {
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        if zero || xzero {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        } else {
            let cur = val_value(op);
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        }
        // Step 3: put the sequence in place of the opcode.
        let old = if xzero { 2 } else { 1 };
        if seq.len() > old && s.len() + seq.len() - old > max_bytes {
            return promote(s, index, count);
        }
        // Redis grows the string by the difference and copies the whole
        // sequence: for an XZERO cut short at the end (a corrupt sketch)
        // the sequence's last byte falls past the new end.
        let new_len = s.len() + seq.len() - old;
        let to = (p + old).min(s.len());
        s.splice(p..to, seq);
        s.truncate(new_len);
    }
    // Step 4: merge adjacent VALs of equal value, scanning up to five
    // opcodes from the one before the change.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let op = s[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if p + 1 < s.len() && is_val(s[p + 1]) {
            let (v1, v2) = (val_value(op), val_value(s[p + 1]));
            let len = val_len(op) + val_len(s[p + 1]);
            if v1 == v2 && len <= VAL_MAX_LEN {
                s[p + 1] = val_op(v1, len);
                s.remove(p);
                continue;
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    Ok(true)
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(s)?;
    dense_raise(&mut s[HDR..], index, count);
    Ok(true)
}

/// Raises register `index` to `count` in either encoding; Ok(true) if it
/// changed. A sparse sketch may be promoted (see module doc).
pub fn raise(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if is_dense(s) {
        Ok(dense_raise(&mut s[HDR..], index, count))
    } else {
        sparse_set(s, index, count, max_bytes)
    }
}

/// PFADD of one element; Ok(true) if a register changed.
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    raise(s, index, count, max_bytes)
}

/// Raises `max[i]` to every register of `s` (PFMERGE, PFCOUNT of several
/// keys).
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    if is_dense(s) {
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(&s[HDR..], i));
        }
        return Ok(());
    }
    let mut i = 0;
    let mut p = HDR;
    while p < s.len() {
        let (span, len) = op_at(s, p);
        if is_val(s[p]) {
            if span + i > REGISTERS {
                break;
            }
            let v = val_value(s[p]);
            for m in &mut max[i..i + span] {
                *m = (*m).max(v);
            }
        }
        i += span;
        p += len;
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// Register value histogram of a sketch; Err for an invalid sparse one.
fn histogram(s: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut h = [0u32; 64];
    if is_dense(s) {
        for i in 0..REGISTERS {
            h[dense_get(&s[HDR..], i) as usize] += 1;
        }
        return Ok(h);
    }
    let (mut idx, mut p) = (0, HDR);
    while p < s.len() {
        let (span, len) = op_at(s, p);
        let v = if is_val(s[p]) { val_value(s[p]) } else { 0 };
        h[v as usize] += span as u32;
        idx += span;
        p += len;
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(h)
}

/// The registers of a sketch, one byte each (PFDEBUG GETREG).
pub fn registers(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut regs = vec![0u8; REGISTERS];
    merge_into(&mut regs, s)?;
    Ok(regs)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// Ertl's estimate from a register histogram (Redis's `hllCount`).
fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimate of one byte per register (the union PFCOUNT computes).
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut h = [0u32; 64];
    for &r in regs {
        h[(r & 63) as usize] += 1;
    }
    estimate(&h)
}

/// PFCOUNT of one sketch: the cached cardinality when valid, else a fresh
/// estimate written back into the cache. Returns (cardinality, whether
/// the cache was rewritten).
pub fn cardinality(s: &mut [u8]) -> Result<(u64, bool), Corrupt> {
    if s[15] & 0x80 == 0 {
        let card = u64::from_le_bytes(s[8..16].try_into().expect("8 bytes"));
        return Ok((card, false));
    }
    let card = estimate(&histogram(s)?);
    s[8..16].copy_from_slice(&card.to_le_bytes());
    Ok((card, true))
}

/// PFDEBUG DECODE's text of a sparse sketch: `z:len`, `Z:len`, `v:val,len`.
pub fn decode_sparse(s: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = HDR;
    while p < s.len() {
        let (span, len) = op_at(s, p);
        let op = s[p];
        out.push(if is_zero(op) {
            format!("z:{span}")
        } else if is_xzero(op) {
            format!("Z:{span}")
        } else {
            format!("v:{},{span}", val_value(op))
        });
        p += len;
    }
    out.join(" ")
}

/// PFSELFTEST's register round trip: every register of a dense sketch keeps
/// its value and leaves its neighbours alone. Err names the first failure.
pub fn selftest_registers(rng: &mut impl FnMut() -> u32, cycles: usize) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut want = vec![0u8; REGISTERS];
    for _ in 0..cycles {
        for (i, w) in want.iter_mut().enumerate() {
            *w = (rng() as u8) & REGISTER_MAX;
            dense_set(&mut regs, i, *w);
        }
        for (i, &w) in want.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != w {
                return Err(errors::selftest_register(i, w, got));
            }
        }
    }
    Ok(())
}

/// PFSELFTEST's accuracy check: adds `n` distinct elements to a dense and a
/// sparse sketch, and at 1, 10, 100 … checks that both agree and that the
/// error stays within six standard errors.
pub fn selftest_accuracy(seed: u64, n: u64, max_bytes: usize) -> Result<(), String> {
    let mut dense = create();
    to_dense(&mut dense).expect("fresh sketch");
    let mut sparse = create();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=n {
        let ele = (j ^ seed).to_ne_bytes();
        let _ = add(&mut dense, &ele, max_bytes);
        add(&mut sparse, &ele, max_bytes).map_err(|_| errors::SELFTEST_CORRUPTED)?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && is_dense(&sparse) {
            return Err(errors::SELFTEST_NOT_SPARSE.into());
        }
        let d = estimate(&histogram(&dense).expect("dense"));
        let sp = estimate(&histogram(&sparse).map_err(|_| errors::SELFTEST_CORRUPTED)?);
        if d != sp {
            return Err(errors::SELFTEST_DISAGREE.into());
        }
        let abserr = (checkpoint as i64 - d as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(errors::selftest_error(checkpoint, abserr));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_reference_values() {
        // Redis: PFADD h a sets register 12711 to 2 (PFDEBUG GETREG).
        assert_eq!(pattern(b"a"), (12711, 2));
        assert_ne!(murmur64a(b"abcdefgh", SEED), murmur64a(b"abcdefgi", SEED));
    }

    #[test]
    fn new_sketch_is_redis_empty_value() {
        let s = create();
        assert_eq!(
            s,
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
        );
        assert!(is_hll(&s));
        assert_eq!(histogram(&s).unwrap()[0], REGISTERS as u32);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut next = 12345u32;
        let mut rng = || {
            next = next.wrapping_mul(1_103_515_245).wrapping_add(12345);
            next >> 8
        };
        assert_eq!(selftest_registers(&mut rng, 3), Ok(()));
    }

    #[test]
    fn sparse_and_dense_agree_and_promote() {
        assert_eq!(selftest_accuracy(0x1234_5678_9abc, 100_000, 3000), Ok(()));
        let mut s = create();
        for i in 0..50u32 {
            add(&mut s, &i.to_le_bytes(), 3000).unwrap();
        }
        assert!(!is_dense(&s));
        let mut d = s.clone();
        to_dense(&mut d).unwrap();
        assert_eq!(registers(&s).unwrap(), registers(&d).unwrap());
        // A tiny sparse limit promotes at once.
        let mut t = create();
        for i in 0..50u32 {
            add(&mut t, &i.to_le_bytes(), 20).unwrap();
        }
        assert!(is_dense(&t));
        assert_eq!(registers(&t).unwrap(), registers(&d).unwrap());
    }

    #[test]
    fn cache_is_used_until_invalidated() {
        let mut s = create();
        add(&mut s, b"x", 3000).unwrap();
        assert_eq!(cardinality(&mut s), Ok((1, true)));
        assert_eq!(cardinality(&mut s), Ok((1, false)));
        invalidate_cache(&mut s);
        assert_eq!(cardinality(&mut s), Ok((1, true)));
    }

    #[test]
    fn corrupt_sparse_strings_are_detected() {
        let mut s = create();
        s.truncate(HDR + 1);
        assert_eq!(histogram(&s), Err(Corrupt));
        assert_eq!(to_dense(&mut s.clone()), Err(Corrupt));
        let mut regs = vec![0u8; REGISTERS];
        assert_eq!(merge_into(&mut regs, &s), Err(Corrupt));
        assert!(!is_hll(b"HYLL"));
        assert!(!is_hll(
            b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        ));
        assert_eq!(decode_sparse(&create()), "Z:16384",);
    }
}
